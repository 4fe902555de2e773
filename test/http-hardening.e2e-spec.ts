import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MetricsLifecycle } from '../src/metrics/metrics.module';
import { engineThatFailsToLoad, postJson, startTestApp } from './support/test-app';

/** Security headers, CORS, timeouts and the production defaults; no model needed (the engine never loads). */
describe('HTTP hardening (e2e)', () => {
  describe('with the defaults', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startTestApp({ engine: engineThatFailsToLoad() });
    });

    afterAll(() => app.close());

    it.each([
      ['GET', '/health/live'],
      ['GET', '/no-such-route'],
      ['POST', '/predict'],
    ] as const)('sends helmet headers on %s %s, error answers included', async (method, url) => {
      const { headers } = await app.inject({ method, url, headers: { 'content-type': 'application/json' }, payload: method === 'POST' ? '{' : undefined });
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(headers['cross-origin-resource-policy']).toBe('same-origin');
      expect(headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(headers['x-powered-by']).toBeUndefined();
      expect(headers['content-security-policy']).toContain("default-src 'self'");
      expect(headers['content-security-policy']).toContain("object-src 'none'");
      expect(headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    });

    it("keeps the playground's own stricter Content-Security-Policy", async () => {
      const page = await app.inject({ method: 'GET', url: '/' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.headers['content-security-policy']).toContain("connect-src 'self'");
    });

    it('serves Swagger UI under the API policy (its scripts and styles are its own files)', async () => {
      const docs = await app.inject({ method: 'GET', url: '/docs' });
      expect(docs.statusCode).toBe(200);
      expect(docs.headers['content-security-policy']).toContain("script-src 'self'");
    });

    it('sends no CORS headers, to a simple request or a preflight, unless origins are configured', async () => {
      const simple = await app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://elsewhere.example' } });
      expect(simple.headers['access-control-allow-origin']).toBeUndefined();
      const preflight = await app.inject({
        method: 'OPTIONS',
        url: '/predict',
        headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
      });
      expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(preflight.statusCode).toBe(404);
    });

    it('applies the request, connection and keep-alive timeouts to the server', () => {
      const fastify = app.getHttpAdapter().getInstance();
      expect(fastify.initialConfig).toMatchObject({ requestTimeout: 30_000, connectionTimeout: 120_000, keepAliveTimeout: 72_000 });
      expect(fastify.server.requestTimeout).toBe(30_000);
      expect(fastify.server.keepAliveTimeout).toBe(72_000);
    });
  });

  describe('with CORS_ORIGINS and timeouts set', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startTestApp({
        env: {
          CORS_ORIGINS: 'https://app.example, http://localhost:3000',
          REQUEST_TIMEOUT_MS: '5000',
          CONNECTION_TIMEOUT_MS: '0',
          KEEP_ALIVE_TIMEOUT_MS: '61000',
        },
        engine: engineThatFailsToLoad(),
      });
    });

    afterAll(() => app.close());

    it('allows exactly the configured origins', async () => {
      for (const origin of ['https://app.example', 'http://localhost:3000']) {
        const preflight = await app.inject({ method: 'OPTIONS', url: '/predict', headers: { origin, 'access-control-request-method': 'POST' } });
        expect(preflight.statusCode).toBe(204);
        expect(preflight.headers['access-control-allow-origin']).toBe(origin);
      }
      const other = await postJson(app, '/predict', { text: 'hi' });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const foreign = await app.inject({ method: 'GET', url: '/health/live', headers: { origin: 'https://evil.example' } });
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('takes the timeouts from the configuration', () => {
      expect(app.getHttpAdapter().getInstance().initialConfig).toMatchObject({ requestTimeout: 5000, connectionTimeout: 0, keepAliveTimeout: 61_000 });
    });
  });

  describe('in production, unless asked for', () => {
    let app: NestFastifyApplication;
    let modelDir: string;

    beforeAll(async () => {
      modelDir = mkdtempSync(join(tmpdir(), 'qwen3guard-hardening-'));
      app = await startTestApp({ env: { NODE_ENV: 'production', QWEN3GUARD_MODEL_DIR: modelDir }, engine: engineThatFailsToLoad() });
    });

    afterAll(async () => {
      await app.close();
      rmSync(modelDir, { recursive: true, force: true });
    });

    it.each(['/', '/docs', '/docs-json'])('does not serve %s', async (url) => {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('the metrics listener', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startTestApp({ engine: engineThatFailsToLoad() });
    });

    afterAll(() => app.close());

    it('serves /metrics and nothing else, none of the API in particular', async () => {
      const url = new URL(app.get(MetricsLifecycle).url!);
      expect((await fetch(url)).status).toBe(200);
      for (const path of ['/', '/predict', '/health/live', '/docs', '/v1/stats', '/metrics/../predict', '/%2e%2e/predict']) {
        const response = await fetch(new URL(path, url));
        expect(response.status).toBe(404);
        expect(await response.text()).not.toContain('qwen3guard_');
      }
      expect((await fetch(new URL('/predict', url), { method: 'POST', body: '{"text":"hi"}' })).status).toBe(404);
    });
  });
});
