import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidConfigError, loadAppConfig } from './load-app-config';

function problemsFor(env: Record<string, string>): readonly string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof InvalidConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('loadAppConfig', () => {
  let modelDir: string;

  beforeAll(() => {
    modelDir = mkdtempSync(join(tmpdir(), 'qwen3guard-config-'));
  });

  afterAll(() => rmSync(modelDir, { recursive: true, force: true }));

  it('applies the documented defaults to an empty environment', () => {
    const config = loadAppConfig({ XDG_CACHE_HOME: '/var/cache' });
    // No dtype: the engine picks one from the model's files (defaultDtype: int8 on CPU where it exists).
    expect(config.QWEN3GUARD_DTYPE).toBeUndefined();
    expect(config).toMatchObject({
      HOST: '0.0.0.0',
      PORT: 8080,
      METRICS_PORT: 8000,
      METRICS_MODE: 'separate',
      NODE_ENV: 'development',
      LOG_LEVEL: 'log',
      QWEN3GUARD_PROVIDER: 'cpu',
      QWEN3GUARD_MAX_NEW_TOKENS: 128,
      QWEN3GUARD_CACHE_DIR: '/var/cache/qwen3guard-gen-web',
      QWEN3GUARD_THREADS: 0,
      BODY_LIMIT_BYTES: 1024 * 1024,
      MAX_TEXT_CHARS: 20000,
      MAX_BATCH_ITEMS: 32,
      QWEN3GUARD_MAX_QUEUE: 256,
      QWEN3GUARD_MAX_BATCH_TOKENS: 8192,
      QWEN3GUARD_MAX_QUEUE_WAIT_MS: 2000,
      DOCS_ENABLED: true,
      PLAYGROUND_ENABLED: true,
      HF_HUB_CACHE: '/var/cache/huggingface/hub',
    });
    expect(config.QWEN3GUARD_MODEL).toBeUndefined();
    expect(config.QWEN3GUARD_MODEL_DIR).toBeUndefined();
    expect(config.QWEN3GUARD_MODEL_ID).toBeUndefined();
    expect(config.usesDemoModel).toBe(true);
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or empty', () => {
    expect(loadAppConfig({ XDG_CACHE_HOME: '' }).QWEN3GUARD_CACHE_DIR).toMatch(/\.cache[/\\]qwen3guard-gen-web$/);
  });

  it('converts and keeps valid values', () => {
    const config = loadAppConfig({
      HOST: '127.0.0.1',
      PORT: '9090',
      METRICS_PORT: '9100',
      METRICS_MODE: 'same-port',
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      QWEN3GUARD_MODEL_DIR: modelDir,
      QWEN3GUARD_MODEL_ID: 'Qwen/Qwen3Guard-Gen-0.6B',
      QWEN3GUARD_DTYPE: 'q4f16',
      QWEN3GUARD_PROVIDER: 'auto',
      QWEN3GUARD_MAX_NEW_TOKENS: '64',
      QWEN3GUARD_CACHE_DIR: '/srv/cache',
      QWEN3GUARD_THREADS: '2',
      BODY_LIMIT_BYTES: '2048',
      MAX_TEXT_CHARS: '100',
      MAX_BATCH_ITEMS: '4',
      DOCS_ENABLED: 'false',
    });
    expect(config).toMatchObject({
      HOST: '127.0.0.1',
      PORT: 9090,
      METRICS_PORT: 9100,
      METRICS_MODE: 'same-port',
      NODE_ENV: 'production',
      LOG_LEVEL: 'debug',
      QWEN3GUARD_MODEL_DIR: modelDir,
      QWEN3GUARD_MODEL_ID: 'Qwen/Qwen3Guard-Gen-0.6B',
      QWEN3GUARD_DTYPE: 'q4f16',
      QWEN3GUARD_PROVIDER: 'auto',
      QWEN3GUARD_MAX_NEW_TOKENS: 64,
      QWEN3GUARD_CACHE_DIR: '/srv/cache',
      QWEN3GUARD_THREADS: 2,
      BODY_LIMIT_BYTES: 2048,
      MAX_TEXT_CHARS: 100,
      MAX_BATCH_ITEMS: 4,
      DOCS_ENABLED: false,
    });
    expect(config.usesDemoModel).toBe(false);
  });

  it('treats empty values as unset', () => {
    expect(loadAppConfig({ PORT: '', QWEN3GUARD_MODEL_DIR: '  ' })).toMatchObject({ PORT: 8080, usesDemoModel: true });
  });

  it('ignores variables it does not declare', () => {
    expect(loadAppConfig({ PATH: '/bin', SOMETHING_ELSE: 'x' })).not.toHaveProperty('PATH');
  });

  it.each([
    ['PORT', 'eighty', 'PORT must be an integer number'],
    ['PORT', '65536', 'PORT must not be greater than 65535'],
    ['PORT', '0x1F90', 'PORT must be an integer number'],
    ['METRICS_PORT', '-1', 'METRICS_PORT must not be less than 0'],
    ['METRICS_MODE', 'both', 'METRICS_MODE must be one of the following values: separate, same-port, off'],
    ['NODE_ENV', 'staging', 'NODE_ENV must be one of the following values'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of the following values'],
    ['QWEN3GUARD_DTYPE', 'bf16', 'QWEN3GUARD_DTYPE must be one of the following values'],
    ['QWEN3GUARD_PROVIDER', 'tpu', 'QWEN3GUARD_PROVIDER must be one of the following values'],
    ['QWEN3GUARD_MAX_NEW_TOKENS', '0', 'QWEN3GUARD_MAX_NEW_TOKENS must not be less than 1'],
    ['QWEN3GUARD_MAX_NEW_TOKENS', '513', 'QWEN3GUARD_MAX_NEW_TOKENS must not be greater than 512'],
    ['QWEN3GUARD_THREADS', '1.5', 'QWEN3GUARD_THREADS must be an integer number'],
    ['BODY_LIMIT_BYTES', '10', 'BODY_LIMIT_BYTES must not be less than 1024'],
    ['MAX_TEXT_CHARS', '0', 'MAX_TEXT_CHARS must not be less than 1'],
    ['MAX_BATCH_ITEMS', '100000', 'MAX_BATCH_ITEMS must not be greater than 1024'],
    ['DOCS_ENABLED', 'maybe', 'DOCS_ENABLED must be a boolean value'],
    ['PLAYGROUND_ENABLED', 'perhaps', 'PLAYGROUND_ENABLED must be a boolean value'],
    ['REQUEST_TIMEOUT_MS', '10', 'REQUEST_TIMEOUT_MS must not be less than 1000'],
    ['CONNECTION_TIMEOUT_MS', 'soon', 'CONNECTION_TIMEOUT_MS must be an integer number'],
    ['KEEP_ALIVE_TIMEOUT_MS', '999999999', 'KEEP_ALIVE_TIMEOUT_MS must not be greater than 600000'],
    ['QWEN3GUARD_INFERENCE_TIMEOUT_MS', '5', 'QWEN3GUARD_INFERENCE_TIMEOUT_MS must not be less than 100'],
    ['CORS_ORIGINS', '*', 'CORS_ORIGINS must be a comma-separated list of origins'],
    ['CORS_ORIGINS', 'https://a.example/path', 'CORS_ORIGINS must be a comma-separated list of origins'],
  ])('rejects %s=%s naming the variable', (name, value, message) => {
    expect(problemsFor({ [name]: value }).join('\n')).toContain(message);
  });

  it('reports every bad variable at once', () => {
    expect(problemsFor({ PORT: 'x', MAX_BATCH_ITEMS: '0' })).toHaveLength(2);
  });

  it('turns the API docs and the playground off in production unless they are asked for', () => {
    const production = { NODE_ENV: 'production', QWEN3GUARD_MODEL_DIR: modelDir };
    expect(loadAppConfig(production)).toMatchObject({ DOCS_ENABLED: false, PLAYGROUND_ENABLED: false });
    expect(loadAppConfig({ ...production, DOCS_ENABLED: 'true', PLAYGROUND_ENABLED: 'yes' })).toMatchObject({ DOCS_ENABLED: true, PLAYGROUND_ENABLED: true });
    expect(loadAppConfig({ NODE_ENV: 'test' })).toMatchObject({ DOCS_ENABLED: true, PLAYGROUND_ENABLED: true });
  });

  it('keeps a list of CORS origins, and none by default', () => {
    expect(loadAppConfig({}).CORS_ORIGINS).toBeUndefined();
    expect(loadAppConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:3000' }).CORS_ORIGINS).toBe('https://a.example, http://localhost:3000');
  });

  it('refuses the demo model in production', () => {
    expect(problemsFor({ NODE_ENV: 'production' })).toEqual([
      'QWEN3GUARD_MODEL or QWEN3GUARD_MODEL_DIR must be set when NODE_ENV=production: the demo model is refused in production',
    ]);
  });

  describe('QWEN3GUARD_MODEL', () => {
    const commit = 'a'.repeat(40);
    let hubCache: string;

    beforeAll(() => {
      // A repo in the Hugging Face cache layout: a ref naming a snapshot.
      hubCache = join(modelDir, 'hub');
      mkdirSync(join(hubCache, 'models--Qwen--Guard-ONNX', 'snapshots', commit), { recursive: true });
      mkdirSync(join(hubCache, 'models--Qwen--Guard-ONNX', 'refs'));
      writeFileSync(join(hubCache, 'models--Qwen--Guard-ONNX', 'refs', 'main'), commit);
    });

    it('selects a repo already in the Hugging Face cache, found through HF_HOME like huggingface_hub', () => {
      const config = loadAppConfig({ QWEN3GUARD_MODEL: 'Qwen/Guard-ONNX', HF_HOME: modelDir, NODE_ENV: 'production' });
      expect(config).toMatchObject({ QWEN3GUARD_MODEL: 'Qwen/Guard-ONNX', HF_HUB_CACHE: hubCache, usesDemoModel: false });
    });

    it('names the pull command when the repo is not in the cache', () => {
      expect(problemsFor({ QWEN3GUARD_MODEL: 'Qwen/Other', HF_HUB_CACHE: hubCache })).toEqual([
        `QWEN3GUARD_MODEL=Qwen/Other is not in the Hugging Face cache at ${hubCache}: run \`qwen3guard pull Qwen/Other\` first`,
      ]);
    });

    it('refuses what is not a repo id, and a model directory as well', () => {
      expect(problemsFor({ QWEN3GUARD_MODEL: 'Guard-ONNX', HF_HUB_CACHE: hubCache })).toEqual([
        'QWEN3GUARD_MODEL must be a Hugging Face repo id, owner/name (Guard-ONNX is not one)',
      ]);
      expect(problemsFor({ QWEN3GUARD_MODEL: 'Qwen/Guard-ONNX', HF_HUB_CACHE: hubCache, QWEN3GUARD_MODEL_DIR: modelDir })).toEqual([
        'set QWEN3GUARD_MODEL (a Hugging Face repo id) or QWEN3GUARD_MODEL_DIR (a directory), not both',
      ]);
    });
  });

  it('requires QWEN3GUARD_MODEL_DIR to be an existing directory', () => {
    const file = join(modelDir, 'config.json');
    writeFileSync(file, '{}');
    expect(problemsFor({ QWEN3GUARD_MODEL_DIR: file })[0]).toMatch(/^QWEN3GUARD_MODEL_DIR must name an existing directory/);
    expect(problemsFor({ QWEN3GUARD_MODEL_DIR: join(modelDir, 'missing') })).toHaveLength(1);
  });

  it('refuses the same port for the API and the metrics listener', () => {
    // PORT changed alone, onto the metrics listener's default port: both variables and the way out are named.
    expect(problemsFor({ PORT: '8000' })).toEqual([
      'PORT and METRICS_PORT are both 8000: the metrics listener needs a port of its own; ' +
        'set METRICS_PORT to another port, or METRICS_MODE=same-port to serve /metrics on the API port',
    ]);
    expect(problemsFor({ PORT: '9000', METRICS_PORT: '9000', METRICS_MODE: 'separate' })).toHaveLength(1);
  });

  it('ignores METRICS_PORT unless the metrics listener is separate', () => {
    expect(loadAppConfig({ PORT: '8000', METRICS_MODE: 'same-port' })).toMatchObject({ PORT: 8000, METRICS_MODE: 'same-port' });
    expect(loadAppConfig({ PORT: '8000', METRICS_MODE: 'off' })).toMatchObject({ PORT: 8000, METRICS_MODE: 'off' });
    expect(loadAppConfig({ PORT: '0', METRICS_PORT: '0' })).toMatchObject({ PORT: 0, METRICS_PORT: 0 });
  });

  it.each(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent', 'verbose', 'log'])('accepts LOG_LEVEL=%s (pino and Nest names)', (level) => {
    expect(loadAppConfig({ LOG_LEVEL: level }).LOG_LEVEL).toBe(level);
  });

  it('builds a message that names the variables', () => {
    expect(() => loadAppConfig({ PORT: 'x' })).toThrow('invalid configuration: PORT must be an integer number');
  });
});
