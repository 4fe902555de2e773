import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Registry } from 'prom-client';
import { loadAppConfig } from '../src/config/load-app-config';
import { ModerationEngine } from '../src/inference';
import { SessionFaults } from './support/session-faults';
import { createCacheDir, expectModelFailed, postJson, removeCacheDir, startTestApp, TEST_ENV, waitUntilReady } from './support/test-app';

jest.setTimeout(180_000);

/** Long enough for a demo verdict on a busy 2-core machine, short enough to wait for once. */
const INFERENCE_TIMEOUT_MS = 3000;

async function engineErrors(app: NestFastifyApplication, code: string): Promise<number> {
  const metric = await app.get(Registry).getSingleMetric('qwen3guard_engine_errors_total')?.get();
  return metric?.values.find((sample) => sample.labels.code === code)?.value ?? 0;
}

async function modelReadyGauge(app: NestFastifyApplication): Promise<number | undefined> {
  return (await app.get(Registry).getSingleMetric('qwen3guard_model_ready')?.get())?.values[0]?.value;
}

function expectServerError(response: Awaited<ReturnType<typeof postJson>>, status: number, code: string): void {
  expect(response.statusCode).toBe(status);
  const body = response.json() as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'error', 'message', 'statusCode']);
  expect(body).toMatchObject({ statusCode: status, code });
  expect(response.body).not.toMatch(/\bat .+\.(ts|js):\d+|injected fault/);
}

/**
 * Faults of the inference runtime and of the model directory, each injected in a test only (see
 * SessionFaults), against the real engine on the demo model: a clear error with its code, the engine
 * error counter, readiness where the model stops being usable, and recovery once the fault clears.
 */
describe('faults (e2e)', () => {
  let cacheDir: string;

  beforeAll(() => {
    cacheDir = createCacheDir();
  });

  afterAll(() => removeCacheDir(cacheDir));

  describe('in the inference session', () => {
    let app: NestFastifyApplication;
    let faults: SessionFaults;

    beforeAll(async () => {
      app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_INFERENCE_TIMEOUT_MS: String(INFERENCE_TIMEOUT_MS) } });
      await waitUntilReady(app);
      faults = new SessionFaults();
    });

    afterEach(() => faults.clear());

    afterAll(async () => {
      faults.restore();
      await app.close();
    });

    async function expectRecovered(): Promise<void> {
      faults.clear();
      await waitUntilReady(app);
      expect((await postJson(app, '/predict', { text: 'a gun' })).json()).toMatchObject({ safety_level: 'unsafe' });
    }

    it('a run that throws: 500 INFERENCE_FAILED, counted, the model stays ready, and the next request succeeds', async () => {
      const before = await engineErrors(app, 'INFERENCE_FAILED');
      faults.inject('throw');
      expectServerError(await postJson(app, '/predict', { text: 'hello' }), 500, 'INFERENCE_FAILED');
      expectServerError(await postJson(app, '/v1/moderations', { input: ['a', 'b'] }), 500, 'INFERENCE_FAILED');
      expect(await engineErrors(app, 'INFERENCE_FAILED')).toBeGreaterThan(before);
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      await expectRecovered();
    });

    it('malformed output: 502 ENGINE_OUTPUT_UNPARSEABLE, never a guessed verdict, counted', async () => {
      const before = await engineErrors(app, 'ENGINE_OUTPUT_UNPARSEABLE');
      faults.inject('malformed');
      expectServerError(await postJson(app, '/v1/moderate', { prompt: 'hello', response: 'hi there' }), 502, 'ENGINE_OUTPUT_UNPARSEABLE');
      expect(await engineErrors(app, 'ENGINE_OUTPUT_UNPARSEABLE')).toBe(before + 1);
      await expectRecovered();
    });

    it('a hung run: 504 INFERENCE_TIMEOUT at the deadline, counted, not ready while it hangs, ready again once it returns', async () => {
      const before = await engineErrors(app, 'INFERENCE_TIMEOUT');
      faults.inject('hang');
      expectServerError(await postJson(app, '/predict', { text: 'hello' }), 504, 'INFERENCE_TIMEOUT');
      expect(await engineErrors(app, 'INFERENCE_TIMEOUT')).toBe(before + 1);
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ error: { model: { status: 'down', state: 'stalled' } } });
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      await expectRecovered();
    });
  });

  describe('in the model directory at start', () => {
    let brokenDir: string;

    beforeAll(async () => {
      // A real model directory to break: the demo model the suite above built.
      const app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir } });
      await waitUntilReady(app);
      const { directory } = app.get(ModerationEngine).info;
      await app.close();
      brokenDir = join(mkdtempSync(join(tmpdir(), 'qwen3guard-faults-')), 'model');
      cpSync(directory, brokenDir, { recursive: true });
    });

    afterAll(() => rmSync(join(brokenDir, '..'), { recursive: true, force: true }));

    it('a missing directory stops start-up with a message naming the variable', () => {
      expect(() => loadAppConfig({ ...TEST_ENV, QWEN3GUARD_MODEL_DIR: join(brokenDir, 'no-such-dir') })).toThrow(
        /QWEN3GUARD_MODEL_DIR must name an existing directory/,
      );
    });

    it.each([
      ['a corrupt ONNX file', 'onnx/model.onnx', 'not an onnx graph', /onnxruntime could not load model\.onnx/],
      ['a corrupt tokenizer', 'tokenizer.json', '{"model": ', /tokenizer\.json is not valid JSON/],
      ['a corrupt config.json', 'config.json', '{"model_type": ', /config\.json is not valid JSON/],
    ])('%s: live but not ready, 503 MODEL_INVALID with the reason, counted; a fixed directory serves after a restart', async (_name, file, garbage, reason) => {
      const path = join(brokenDir, file);
      const original = readFileSync(path);
      writeFileSync(path, garbage);
      const broken = await startTestApp({ env: { QWEN3GUARD_MODEL_DIR: brokenDir } });
      try {
        await waitForLoadFailure(broken);
        expect((await broken.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
        const ready = await broken.inject({ method: 'GET', url: '/health/ready' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({
          error: { model: { status: 'down', state: 'failed', code: 'MODEL_INVALID', reason: expect.stringMatching(reason) } },
        });
        const refused = await postJson(broken, '/predict', { text: 'hello' });
        expectModelFailed(refused, reason);
        expect(refused.body).not.toContain(brokenDir);
        expect(await engineErrors(broken, 'MODEL_INVALID')).toBe(1);
        expect(await modelReadyGauge(broken)).toBe(0);
      } finally {
        await broken.close();
      }
      writeFileSync(path, original);
      const fixed = await startTestApp({ env: { QWEN3GUARD_MODEL_DIR: brokenDir } });
      try {
        await waitUntilReady(fixed);
        expect(await modelReadyGauge(fixed)).toBe(1);
      } finally {
        await fixed.close();
      }
    });
  });
});

/** Polls readiness until the loader reports the load as failed. */
async function waitForLoadFailure(app: NestFastifyApplication): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    const probe = await app.inject({ method: 'GET', url: '/health/ready' });
    if (probe.statusCode === 200) throw new Error('the broken model loaded');
    if ((probe.json() as { error?: { model?: { state?: string } } }).error?.model?.state === 'failed') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the model load never failed');
}
