import { tmpdir } from 'node:os';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { engineThatFailsToLoad, expectModelFailed, postJson, startTestApp } from './support/test-app';

/**
 * A model that fails to load keeps the service up (outside production) but unready: every moderation call is
 * a 503 MODEL_INVALID with the reason and no Retry-After, readiness says why, liveness stays green
 * (restarting would not fix a bad model). Production exits instead: see start-up-failures.e2e-spec.ts.
 */
describe('model that failed to load (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startTestApp({ engine: engineThatFailsToLoad(), env: { QWEN3GUARD_MODEL_ID: 'broken-model' } });
    // The load fails on its first step (the directory is missing); let it settle.
    await new Promise((resolve) => setTimeout(resolve, 200));
  });

  afterAll(() => app.close());

  it.each([
    ['/predict', { text: 'hello' }],
    ['/v1/moderate', { prompt: 'hello' }],
    ['/v1/moderate', { items: [{ prompt: 'hello' }] }],
    ['/v1/moderations', { input: ['hello'] }],
  ])('POST %s -> 503 MODEL_INVALID with the reason, no Retry-After', async (url, body) => {
    const response = await postJson(app, url, body);
    expectModelFailed(response, /model directory qwen3guard-gen-web-no-such-model does not exist$/);
    // The reason names the directory, never the path above it.
    expect(response.body).not.toContain(tmpdir());
  });

  it('still validates first: a client mistake is a 400, not a 503', async () => {
    expect((await postJson(app, '/predict', { text: '' })).statusCode).toBe(400);
  });

  it('reports the failure on /health/ready with 503', async () => {
    const ready = await app.inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.headers['content-type']).toMatch(/^application\/json/);
    const model = {
      status: 'down',
      state: 'failed',
      code: 'MODEL_INVALID',
      reason: 'model directory qwen3guard-gen-web-no-such-model does not exist',
      id: 'broken-model',
      provider: 'cpu',
      dtype: 'fp32',
      demo: true,
    };
    const usageLedger = { status: 'up', backend: 'sqlite', state: 'reachable' };
    expect(ready.json()).toEqual({ status: 'error', info: { usage_ledger: usageLedger }, error: { model }, details: { model, usage_ledger: usageLedger } });
    expect(ready.headers['retry-after']).toBeUndefined();
  });

  it('stays live', async () => {
    const live = await app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toMatchObject({ status: 'ok' });
  });
});
