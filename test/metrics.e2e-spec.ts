import { createServer, Server } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Registry } from 'prom-client';
import { createApp } from '../src/app-factory';
import { AppConfig } from '../src/config/app-config';
import { EngineErrorCode } from '../src/inference';
import { DEFAULT_METRICS, METRICS, UNMATCHED_ENDPOINT } from '../src/metrics/metric-names';
import { describeMetricsEndpoint, MetricsLifecycle } from '../src/metrics/metrics.module';
import { serviceVersion } from '../src/metrics/service-version';
import { parseExposition, Sample, samplesOf, valueOf } from './support/exposition';
import { createCacheDir, engineThatFailsToLoad, removeCacheDir, startTestApp, TEST_ENV } from './support/test-app';

jest.setTimeout(120_000);

/** Words from the traffic below that must never reach the exposition (no text, no raw URL in a label). */
const NEVER_EXPOSED = ['bomb', 'hunter2', '测试', 'secret', 'with-a-token', '/no/such', 'unterminated'];

async function freePort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * The application exactly as the binary builds it (createApp, no engine override) on the demo model,
 * listening on loopback; the traffic and the scrapes go over real HTTP.
 */
describe('metrics on their own port (METRICS_MODE=separate, the default)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let api = '';
  let metricsUrl = '';
  let closed = false;
  let samples: Sample[] = [];
  let exposition = '';
  let contentType = '';

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': type }, body }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  const get = (url: string) => fetch(url).then(async (r) => (await r.arrayBuffer(), r.status));
  const count = (method: string, endpoint: string, code: string) =>
    valueOf(samples, METRICS.requestCount.name, { method, endpoint, code, status: Number(code) >= 400 ? 'error' : 'success' });

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await createApp({ ...TEST_ENV, QWEN3GUARD_CACHE_DIR: cacheDir, BODY_LIMIT_BYTES: '2048' });
    await app.listen(0, '127.0.0.1');
    api = await app.getUrl();
    metricsUrl = app.get(MetricsLifecycle).url ?? '';

    const deadline = Date.now() + 90_000;
    while ((await get(`${api}/health/ready`)) !== 200) {
      if (Date.now() > deadline) throw new Error('the demo model did not become ready');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    // The traffic whose metrics are checked below; each status is checked here so a surprise shows early.
    expect(await post('/predict', JSON.stringify({ text: 'How do I build a bomb?' }))).toBe(200);
    expect(await post('/predict', JSON.stringify({ text: 'Where can I buy a bomb?' }))).toBe(200);
    expect(await post('/predict', JSON.stringify({ text: '测试内容安全性' }))).toBe(200);
    expect(await post('/v1/moderate', JSON.stringify({ items: [{ prompt: 'hello' }, { prompt: 'My password is hunter2' }] }))).toBe(200);
    expect(await post('/predict', JSON.stringify({}))).toBe(400);
    expect(await post('/predict', '{"text": "secret unterminated')).toBe(400);
    expect(await post('/predict', JSON.stringify({ text: 'secret '.repeat(500) }))).toBe(413);
    expect(await post('/predict', 'secret words', 'text/plain')).toBe(415);
    expect(await get(`${api}/no/such/page/with-a-token?secret=1`)).toBe(404);
    expect(await get(`${api}/metrics`)).toBe(404);

    const scrape = await fetch(metricsUrl);
    expect(scrape.status).toBe(200);
    contentType = scrape.headers.get('content-type') ?? '';
    exposition = await scrape.text();
    samples = parseExposition(exposition);
  });

  afterAll(async () => {
    if (!closed) await app.close();
    removeCacheDir(cacheDir);
  });

  it('listens on its own loopback port, announced in the banner', () => {
    expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(metricsUrl).port).not.toBe(new URL(api).port);
    expect(describeMetricsEndpoint(app, app.get(AppConfig))).toBe(`metrics at ${metricsUrl}`);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('counts every request by method, route template, status and HTTP code, rejected ones included', () => {
    expect(count('POST', '/predict', '200')).toBe(3);
    expect(count('POST', '/v1/moderate', '200')).toBe(1);
    expect(count('POST', '/predict', '400')).toBe(2); // missing field, invalid JSON
    expect(count('POST', '/predict', '413')).toBe(1);
    expect(count('POST', '/predict', '415')).toBe(1);
    expect(count('GET', UNMATCHED_ENDPOINT, '404')).toBe(2); // unknown page, /metrics on the API port
    const endpoints = new Set(samplesOf(samples, METRICS.requestCount.name).map((s) => s.labels.endpoint));
    // /health/ready: the readiness polling above (503 while loading, then 200); nothing else.
    expect([...endpoints].sort()).toEqual(['/health/ready', '/predict', '/v1/moderate', UNMATCHED_ENDPOINT]);
    for (const s of samplesOf(samples, METRICS.requestCount.name)) {
      expect(Object.keys(s.labels).sort()).toEqual(['code', 'endpoint', 'method', 'status', 'tenant']);
    }
  });

  it('times every request under its route template', () => {
    const c = (endpoint: string) => valueOf(samples, `${METRICS.requestDuration.name}_count`, { endpoint });
    expect(c('/predict')).toBe(7);
    expect(c('/v1/moderate')).toBe(1);
    expect(c(UNMATCHED_ENDPOINT)).toBe(2);
    expect(valueOf(samples, `${METRICS.requestDuration.name}_bucket`, { endpoint: '/predict', le: '+Inf' })).toBe(7);
    expect(valueOf(samples, `${METRICS.requestDuration.name}_sum`, { endpoint: '/predict' })).toBeGreaterThan(0);
  });

  it('counts each verdict once, under its primary category', () => {
    const verdicts = samplesOf(samples, METRICS.verdicts.name).map((s) => [s.labels.safety_level, s.labels.category, s.value]);
    expect(verdicts.sort()).toEqual(
      [
        ['safe', 'None', 2],
        ['unsafe', 'PII', 1],
        ['unsafe', 'Violent', 2],
      ].sort(),
    );
  });

  it('reports the engine: one batch per request (the two items together), a wait per input, the prefix cache and the tokens', () => {
    const inputs = 5;
    const batches = 4; // three single /predict calls, then one /v1/moderate request whose two items share a batch
    expect(valueOf(samples, `${METRICS.batchSize.name}_count`)).toBe(batches);
    expect(valueOf(samples, `${METRICS.batchSize.name}_sum`)).toBe(inputs);
    expect(valueOf(samples, `${METRICS.queueWait.name}_count`)).toBe(inputs);
    expect(valueOf(samples, `${METRICS.prefill.name}_count`)).toBe(batches);
    expect(valueOf(samples, `${METRICS.decode.name}_count`)).toBe(batches);
    expect(valueOf(samples, METRICS.tokens.name, { kind: 'prompt' })).toBeGreaterThan(inputs * 100);
    expect(valueOf(samples, METRICS.tokens.name, { kind: 'generated' })).toBeGreaterThanOrEqual(inputs * 5);
    expect(valueOf(samples, METRICS.tokens.name, { kind: 'cached' })).toBeGreaterThan(inputs * 100);
    expect(valueOf(samples, METRICS.tokens.name, { kind: 'cached' })).toBeLessThan(valueOf(samples, METRICS.tokens.name, { kind: 'prompt' }));
    expect(valueOf(samples, METRICS.queueDepth.name)).toBe(0);
    expect(valueOf(samples, METRICS.queueCapacity.name)).toBe(256);
    expect(valueOf(samples, METRICS.inflightRequests.name)).toBe(0);
    expect(valueOf(samples, METRICS.prefixCacheHits.name)).toBe(inputs);
    expect(valueOf(samples, METRICS.prefixCacheLookups.name)).toBe(inputs);
    for (const code of Object.values(EngineErrorCode)) expect(valueOf(samples, METRICS.engineErrors.name, { code })).toBe(0);
  });

  it('describes the model served', () => {
    expect(samplesOf(samples, METRICS.modelInfo.name)).toEqual([
      { name: METRICS.modelInfo.name, labels: { model: 'qwen3guard-gen-demo', dtype: 'fp32', provider: 'cpu', version: serviceVersion() }, value: 1 },
    ]);
    expect(serviceVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(valueOf(samples, METRICS.modelReady.name)).toBe(1);
    expect(valueOf(samples, METRICS.demoModel.name)).toBe(1);
    expect(valueOf(samples, METRICS.modelLoad.name)).toBeGreaterThan(0);
  });

  it("exposes prom-client's default process and Node.js metrics, and no GPU series on the CPU", () => {
    for (const m of Object.values(DEFAULT_METRICS)) {
      expect(samplesOf(samples, m.type === 'histogram' ? `${m.name}_count` : m.name).length).toBeGreaterThan(0);
    }
    expect(exposition).not.toMatch(/qwen3guard_gpu_/);
  });

  it('never exposes moderated text or a raw URL', () => {
    for (const word of NEVER_EXPOSED) expect(exposition).not.toContain(word);
  });

  it('serves nothing but /metrics on the metrics port', async () => {
    for (const path of ['/', '/predict', '/health/live', '/docs']) expect(await get(metricsUrl.replace('/metrics', path))).toBe(404);
  });

  it('does not count its own scrapes', async () => {
    const again = parseExposition(await (await fetch(metricsUrl)).text());
    expect(samplesOf(again, METRICS.requestCount.name).some((s) => s.labels.endpoint === '/metrics')).toBe(false);
    expect(count('GET', UNMATCHED_ENDPOINT, '404')).toBe(
      valueOf(again, METRICS.requestCount.name, { method: 'GET', endpoint: UNMATCHED_ENDPOINT, code: '404' }),
    );
  });

  it('closes the metrics listener with the application', async () => {
    await app.close();
    closed = true;
    await expect(fetch(metricsUrl)).rejects.toThrow();
  });
});

describe('metrics on the API port (METRICS_MODE=same-port)', () => {
  let app: NestFastifyApplication;
  let unusedPort = 0;

  beforeAll(async () => {
    unusedPort = await freePort();
    app = await startTestApp({ engine: engineThatFailsToLoad(), env: { METRICS_MODE: 'same-port', METRICS_PORT: String(unusedPort) } });
  });
  afterAll(() => app.close());

  it("serves /metrics on the API port through the library's controller, and counts the scrapes there", async () => {
    await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{}' });
    const first = await app.inject({ method: 'GET', url: '/metrics' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parseExposition((await app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(valueOf(samples, METRICS.requestCount.name, { endpoint: '/predict', code: '400' })).toBe(1);
    expect(valueOf(samples, METRICS.requestCount.name, { method: 'GET', endpoint: '/metrics', status: 'success', code: '200' })).toBe(1);
    expect(samplesOf(samples, DEFAULT_METRICS.processCpu.name)).toHaveLength(1);
  });

  it('opens no metrics listener and keeps /metrics out of the API document', async () => {
    expect(app.get(MetricsLifecycle).url).toBeUndefined();
    await expect(fetch(`http://127.0.0.1:${unusedPort}/metrics`)).rejects.toThrow();
    const doc = (await app.inject({ method: 'GET', url: '/docs-json' })).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
    expect(describeMetricsEndpoint(app, app.get(AppConfig))).toMatch(/\/metrics \(METRICS_MODE=same-port\)$/);
  });
});

describe('metrics off (METRICS_MODE=off)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startTestApp({ engine: engineThatFailsToLoad(), env: { METRICS_MODE: 'off' } });
  });
  afterAll(() => app.close());

  it('serves no /metrics and measures nothing', async () => {
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    expect(() => app.get(Registry)).toThrow();
    expect(describeMetricsEndpoint(app, app.get(AppConfig))).toBe('metrics off (METRICS_MODE=off)');
  });
});

describe('metrics listener start-up', () => {
  it('stops start-up with a message naming METRICS_PORT when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(startTestApp({ engine: engineThatFailsToLoad(), env: { METRICS_PORT: String(port) } })).rejects.toThrow(
        new RegExp(`could not listen on 127\\.0\\.0\\.1:${port} \\(METRICS_PORT\\).*EADDRINUSE`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });
});
