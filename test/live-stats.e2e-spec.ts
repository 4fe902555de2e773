import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createCacheDir, engineThatFailsToLoad, postJson, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(120_000);

/** GET /v1/stats: the playground's live panel, fed by the service's own metrics, on the demo model. */
describe('GET /v1/stats (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir } });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

  it('counts moderation calls, their errors, latency and verdicts, and nothing else', async () => {
    const secret = 'my password is hunter2';
    expect((await postJson(app, '/v1/moderate', { prompt: secret })).statusCode).toBe(200);
    expect((await postJson(app, '/predict', { text: 'hello' })).statusCode).toBe(200);
    expect((await postJson(app, '/v1/moderations', { input: ['Who wins the election?', 'Where can I buy a gun?'] })).statusCode).toBe(200);
    expect((await postJson(app, '/v1/moderate', { prompt: 42 })).statusCode).toBe(400);
    // Not moderation calls: left out.
    await app.inject({ method: 'GET', url: '/health/live' });
    await app.inject({ method: 'GET', url: '/' });

    const response = await app.inject({ method: 'GET', url: '/v1/stats' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    const stats = response.json();
    expect(stats).toMatchObject({ requests: 4, errors: 1, verdicts: { safe: 1, controversial: 1, unsafe: 2 } });
    expect(Object.keys(stats).sort()).toEqual(['errors', 'latency_ms', 'requests', 'requests_per_second', 'verdicts', 'window_seconds']);
    expect(stats.window_seconds).toBeGreaterThan(0);
    expect(stats.requests_per_second).toBeGreaterThan(0);
    expect(stats.latency_ms.mean).toBeGreaterThan(0);
    expect(stats.latency_ms.p95).toBeGreaterThanOrEqual(stats.latency_ms.p50);
    expect(response.body).not.toContain('hunter2');
  });

  it('answers 404 in the error shape when the metrics are off', async () => {
    const withoutMetrics = await startTestApp({ env: { METRICS_MODE: 'off' }, engine: engineThatFailsToLoad() });
    try {
      const response = await withoutMetrics.inject({ method: 'GET', url: '/v1/stats' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({
        statusCode: 404,
        error: 'Not Found',
        code: 'NOT_FOUND',
        message: 'live stats come from the metrics, which are off (METRICS_MODE=off)',
      });
    } finally {
      await withoutMetrics.close();
    }
  });
});
