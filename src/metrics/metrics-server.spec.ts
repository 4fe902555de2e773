import { request } from 'node:http';
import { Counter, Registry } from 'prom-client';
import { MetricsServer } from './metrics-server';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('MetricsServer', () => {
  const registry = new Registry();
  new Counter({ name: 'example_total', help: 'An example', registers: [registry] }).inc(3);
  const server = new MetricsServer(registry);
  let port = 0;

  beforeAll(async () => {
    port = (await server.listen(0, '127.0.0.1')).port;
  });
  afterAll(() => server.close());

  it('serves the registry at /metrics in the Prometheus text format', async () => {
    const response = await get(port, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe(registry.contentType);
    expect(response.body).toContain('example_total 3');
    expect((await get(port, '/metrics?name[]=x')).status).toBe(200);
  });

  it('answers HEAD without a body', async () => {
    const response = await get(port, '/metrics', 'HEAD');
    expect(response.status).toBe(200);
    expect(response.body).toBe('');
  });

  it.each(['/', '/metrics/', '/predict', '/health/live', '/docs', '/metricsx'])('answers %s with 404', async (path) => {
    expect((await get(port, path)).status).toBe(404);
  });

  it('answers other methods on /metrics with 405', async () => {
    const response = await get(port, '/metrics', 'POST');
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD');
  });

  it('closes, also with a kept-alive connection open, and can be closed twice', async () => {
    const other = new MetricsServer(registry);
    const { port: otherPort } = await other.listen(0, '127.0.0.1');
    await fetch(`http://127.0.0.1:${otherPort}/metrics`); // leaves a keep-alive connection
    await other.close();
    await other.close();
    await expect(get(otherPort, '/metrics')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('reports a port already in use', async () => {
    await expect(new MetricsServer(registry).listen(port, '127.0.0.1')).rejects.toThrow(/EADDRINUSE/);
  });
});
