import { request as httpRequest } from 'node:http';
import { AddressInfo } from 'node:net';
import Fastify, { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { METRICS, UNMATCHED_ENDPOINT } from '../metrics/metric-names';
import { endpointLabel, methodLabel, registerRequestMetrics, requestLabels, statusLabel } from './request-metrics';
import { ServiceMetrics } from '../metrics/service-metrics';

describe('request metric labels', () => {
  it('maps every status >= 400 to error and the rest to success, keeping the code', () => {
    expect([101, 200, 204, 304, 399].map(statusLabel)).toEqual(['success', 'success', 'success', 'success', 'success']);
    expect([400, 401, 403, 404, 413, 415, 429, 500, 502, 503].map(statusLabel)).toEqual(Array(10).fill('error'));
    expect(requestLabels('POST', '/predict', 413)).toEqual({ method: 'POST', endpoint: '/predict', status: 'error', code: '413', tenant: 'anonymous' });
  });

  it('uses the route template, or one fixed value when no route matched', () => {
    expect(endpointLabel('/items/:id')).toBe('/items/:id');
    expect(endpointLabel(undefined)).toBe(UNMATCHED_ENDPOINT);
  });

  it('keeps the usual methods and folds the rest into OTHER', () => {
    expect(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map(methodLabel)).toEqual(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
    expect(['PROPFIND', 'MKCOL', 'PURGE'].map(methodLabel)).toEqual(['OTHER', 'OTHER', 'OTHER']);
  });
});

describe('registerRequestMetrics on Fastify', () => {
  let fastify: FastifyInstance;
  let metrics: ServiceMetrics;
  let releaseSlow: () => void = () => undefined;

  const counts = async () => (await metrics.requestCount.get()).values.map((v) => ({ ...(v.labels as Record<string, string>), value: v.value }));
  const durationCount = async (endpoint: string) =>
    (await metrics.requestDuration.get()).values.find((v) => v.metricName === `${METRICS.requestDuration.name}_count` && v.labels.endpoint === endpoint)?.value;
  const inflight = async () => (await metrics.inflightRequests.get()).values[0].value;

  beforeEach(async () => {
    metrics = new ServiceMetrics(new Registry(), false);
    fastify = Fastify({ bodyLimit: 64 });
    registerRequestMetrics(fastify, metrics);
    fastify.get('/items/:id', async () => ({ ok: true }));
    fastify.post('/predict', async (request) => ({ echo: request.body }));
    fastify.get('/boom', async () => {
      throw new Error('boom');
    });
    fastify.get('/slow', () => new Promise((resolve) => (releaseSlow = () => resolve({ done: true }))));
    fastify.get('/created', async (_request, reply) => reply.code(201).send({}));
    await fastify.ready();
  });

  afterEach(() => fastify.close());

  it('labels matched routes with their template, never the raw URL', async () => {
    await fastify.inject({ method: 'GET', url: '/items/secret-id-123?token=abc' });
    await fastify.inject({ method: 'GET', url: '/items/other' });
    expect(await counts()).toEqual([{ method: 'GET', endpoint: '/items/:id', status: 'success', code: '200', tenant: 'anonymous', value: 2 }]);
    expect(await durationCount('/items/:id')).toBe(2);
    expect(await metrics.registry.metrics()).not.toMatch(/secret-id-123|token=|abc/);
  });

  it('counts requests rejected before any handler: invalid JSON, too large, wrong media type, unknown route', async () => {
    const post = (payload: string, contentType = 'application/json') =>
      fastify.inject({ method: 'POST', url: '/predict', headers: { 'content-type': contentType }, payload });
    expect((await post('{"text": "unterminated')).statusCode).toBe(400);
    expect((await post(JSON.stringify({ text: 'x'.repeat(100) }))).statusCode).toBe(413);
    expect((await post('<text/>', 'application/xml')).statusCode).toBe(415);
    expect((await post('{"text": "fine"}')).statusCode).toBe(200);
    expect((await fastify.inject({ method: 'GET', url: '/no/such/route/secret-path' })).statusCode).toBe(404);
    expect((await fastify.inject({ method: 'DELETE', url: '/predict' })).statusCode).toBe(404);

    expect(await counts()).toEqual(
      expect.arrayContaining([
        { method: 'POST', endpoint: '/predict', status: 'error', code: '400', tenant: 'anonymous', value: 1 },
        { method: 'POST', endpoint: '/predict', status: 'error', code: '413', tenant: 'anonymous', value: 1 },
        { method: 'POST', endpoint: '/predict', status: 'error', code: '415', tenant: 'anonymous', value: 1 },
        { method: 'POST', endpoint: '/predict', status: 'success', code: '200', tenant: 'anonymous', value: 1 },
        { method: 'GET', endpoint: UNMATCHED_ENDPOINT, status: 'error', code: '404', tenant: 'anonymous', value: 1 },
        { method: 'DELETE', endpoint: UNMATCHED_ENDPOINT, status: 'error', code: '404', tenant: 'anonymous', value: 1 },
      ]),
    );
    expect(await counts()).toHaveLength(6);
    expect(await durationCount('/predict')).toBe(4);
    expect(await durationCount(UNMATCHED_ENDPOINT)).toBe(2);
    expect(await metrics.registry.metrics()).not.toContain('secret-path');
  });

  it('records server errors and other success codes with their HTTP status', async () => {
    expect((await fastify.inject({ method: 'GET', url: '/boom' })).statusCode).toBe(500);
    expect((await fastify.inject({ method: 'GET', url: '/created' })).statusCode).toBe(201);
    expect((await fastify.inject({ method: 'HEAD', url: '/items/1' })).statusCode).toBe(200);
    expect(await counts()).toEqual([
      { method: 'GET', endpoint: '/boom', status: 'error', code: '500', tenant: 'anonymous', value: 1 },
      { method: 'GET', endpoint: '/created', status: 'success', code: '201', tenant: 'anonymous', value: 1 },
      { method: 'HEAD', endpoint: '/items/:id', status: 'success', code: '200', tenant: 'anonymous', value: 1 },
    ]);
  });

  it('observes the duration in seconds', async () => {
    const pending = fastify.inject({ method: 'GET', url: '/slow' });
    await new Promise((resolve) => setTimeout(resolve, 60));
    releaseSlow();
    await pending;
    const sum = (await metrics.requestDuration.get()).values.find((v) => v.metricName?.endsWith('_sum') && v.labels.endpoint === '/slow')?.value ?? 0;
    expect(sum).toBeGreaterThan(0.05);
    expect(sum).toBeLessThan(5);
  });

  it('tracks requests in flight until the response is sent', async () => {
    const pending = fastify.inject({ method: 'GET', url: '/slow' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await inflight()).toBe(1);
    releaseSlow();
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    expect(await inflight()).toBe(0);
  });

  it('releases the in-flight count of a client that went away, without counting a response', async () => {
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const { port } = fastify.server.address() as AddressInfo;
    const client = httpRequest({ host: '127.0.0.1', port, path: '/slow' });
    client.on('error', () => undefined);
    client.end();
    const deadline = Date.now() + 5000;
    while ((await inflight()) !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await inflight()).toBe(1);
    client.destroy();
    while ((await inflight()) !== 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await inflight()).toBe(0);
    releaseSlow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await counts()).toEqual([]);
  });
});
