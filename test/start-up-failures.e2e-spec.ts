import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { apiKeyHash, generateApiKey } from '../src/api-keys/api-key';
import { buildDist, ROOT, SERVICE_ENTRY } from './support/build-output';

jest.setTimeout(300_000);

interface ServiceRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The compiled service (`npm start`'s entry point) until it exits, at most 60 s, with `env` over a clean environment. */
async function runService(env: Record<string, string>): Promise<ServiceRun> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(QWEN3GUARD_|HF_|NODE_ENV|LOG_LEVEL|ALLOW_ANONYMOUS)/.test(name)));
  const base = { HOST: '127.0.0.1', PORT: '0', METRICS_PORT: '0', QWEN3GUARD_USAGE_DB: ':memory:' };
  return promisify(execFile)(process.execPath, [SERVICE_ENTRY], { cwd: ROOT, env: { ...clean, ...base, ...env }, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

function expectNoStack(output: string): void {
  // eslint-disable-next-line no-control-regex -- ESC starts the ANSI colour codes of Nest's own log format
  expect(output).not.toMatch(/\n\s+at |\u001b\[/);
}

/**
 * What a person or a log collector sees when the service cannot start: one line naming the cause (plain text
 * in development, a pino JSON line in production), no Nest banner, no stack, a non-zero exit; and, in
 * production, a model that fails to load ends the process the same way.
 */
describe('start-up failures (e2e)', () => {
  let workDir: string;
  let modelDir: string;
  let typoFile: string;

  beforeAll(async () => {
    await buildDist();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-start-up-'));
    // An existing directory that is not a model: configuration accepts it, the load fails.
    modelDir = join(workDir, 'not-a-model');
    mkdirSync(modelDir);
    typoFile = join(workDir, 'tenants.yaml');
    writeFileSync(
      typoFile,
      `tenants:\n  - id: shop\n    name: Shop\n    keys: ["${apiKeyHash(generateApiKey())}"]\n    ratelimit: { requestsPerSecond: 5, burst: 10 }\n`,
    );
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  describe('in development: one readable line on stderr', () => {
    it.each([
      ['a missing tenants file', () => join(workDir, 'missing.yaml'), /^invalid tenants file .*missing\.yaml: ENOENT: no such file or directory/],
      ['a tenants file with a typo', () => typoFile, /^invalid tenants file .*tenants\.yaml: .*tenants\.0\.ratelimit/],
    ])('%s', async (_name, file, message) => {
      const run = await runService({ NODE_ENV: 'development', QWEN3GUARD_TENANTS_FILE: file() });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr.endsWith('\n')).toBe(true);
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0].replace(/^Qwen3Guard-Gen-WEB did not start: /, '')).toMatch(message);
      expect(lines[0]).toMatch(/^Qwen3Guard-Gen-WEB did not start: /);
      expectNoStack(run.stderr);
    });
  });

  describe('in production: one pino JSON line', () => {
    it.each([
      [
        'a tenants file with a typo',
        (): Record<string, string> => ({ QWEN3GUARD_TENANTS_FILE: typoFile }),
        /^did not start: invalid tenants file .*tenants\.0\.ratelimit/,
      ],
      [
        'an invalid variable',
        (): Record<string, string> => ({ LOG_LEVEL: 'loud' }),
        /^did not start: invalid configuration: LOG_LEVEL must be one of the following values/,
      ],
    ])('%s', async (_name, env, message) => {
      const run = await runService({ NODE_ENV: 'production', QWEN3GUARD_MODEL_DIR: modelDir, ...env() });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      const line = JSON.parse(lines[0]) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 'fatal', service: 'qwen3guard-gen-web', time: expect.any(String) });
      expect(line.msg).toMatch(message);
      expectNoStack(run.stderr);
    });

    it('a model that fails to load: the process exits non-zero after one line saying why', async () => {
      const run = await runService({ NODE_ENV: 'production', QWEN3GUARD_MODEL_DIR: modelDir, LOG_LEVEL: 'info' });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('');
      const lines = run.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      const failures = lines.filter((line) => line.level === 'error' || line.level === 'fatal');
      expect(failures).toHaveLength(1);
      expect(failures[0].msg).toMatch(
        /^model not-a-model failed to load \(MODEL_INVALID\): .*has no tokenizer_config\.json; exiting: with NODE_ENV=production/,
      );
      expectNoStack(run.stdout);
    });
  });
});
