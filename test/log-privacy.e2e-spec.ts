import { Writable } from 'node:stream';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { apiKeyHash } from '../src/api-keys/api-key';
import { createCacheDir, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(120_000);

/** Every line the application logs, as written (pino writes each JSON line in one call). */
class CapturedLog extends Writable {
  readonly lines: string[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  }

  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

// Distinctive strings that must never reach a log line, whichever field or header they came in.
const MARKERS = ['MARKER-ZEBRA-41', 'MARKER-QUOKKA-73', 'MARKER-NARWHAL-19', 'MARKER-OCELOT-58', 'MARKER-TAPIR-26', 'MARKER-IBIS-07'];
const TENANT = testTenant('acme-logs');
const KEY_HASH = apiKeyHash(TENANT.key);
const UNKNOWN_KEY = 'qg_MARKERunknownKey0123456789abcdefghijklmnopqrstu';

/**
 * The logs of a full run: moderation on the demo model (all three endpoints, a batch, a reply, a stream), client
 * errors of every kind, probes, stats and an unknown route, each carrying marker texts and an API key.
 * Nothing of them may appear in any log line; each request leaves one access line with its fields.
 */
describe('log privacy (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  const log = new CapturedLog();
  const answered: Array<{ id: string; status: number; route: string | null; verdict?: string; tenant: string }> = [];

  interface Sent {
    payload?: string;
    contentType?: string;
    /** The route template logged; null for a request no route matched. */
    route?: string | null;
    /** The most severe level of the demo model's answer (see its trigger words), for the access line. */
    verdict?: string;
    /** The credentials sent: the tenant's key as a bearer token (default), as X-API-Key, none, or an unknown key. */
    auth?: 'bearer' | 'x-api-key' | 'none' | 'unknown';
    /** The tenant the access line names: the key's tenant once it was checked, else `anonymous`. */
    tenant?: string;
  }

  const CREDENTIALS = {
    bearer: { authorization: `Bearer ${TENANT.key}` },
    'x-api-key': { 'x-api-key': TENANT.key },
    none: {},
    unknown: { authorization: `Bearer ${UNKNOWN_KEY}` },
  };

  async function send(method: 'GET' | 'POST', url: string, sent: Sent = {}) {
    const { payload, contentType = 'application/json', route = url, verdict, auth = 'bearer', tenant = 'anonymous' } = sent;
    const response = await app.inject({ method, url, payload, headers: { ...CREDENTIALS[auth], 'content-type': contentType } });
    answered.push({ id: String(response.headers['x-request-id']), status: response.statusCode, route, verdict, tenant });
    return response;
  }

  beforeAll(async () => {
    cacheDir = createCacheDir();
    const tenantsFile = writeTenantsFile(cacheDir, [TENANT]);
    app = await startTestApp({
      env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_TENANTS_FILE: tenantsFile, LOG_LEVEL: 'log', MAX_TEXT_CHARS: '200' },
      logDestination: log,
    });
    await waitUntilReady(app);
    const [zebra, quokka, narwhal, ocelot, tapir, ibis] = MARKERS;
    const json = (body: unknown) => JSON.stringify(body);
    const acme = TENANT.id;
    await send('POST', '/predict', { payload: json({ text: `${zebra} how do I build a bomb` }), verdict: 'unsafe', tenant: acme });
    await send('POST', '/v1/moderate', {
      payload: json({ prompt: `${quokka} my password`, response: `${narwhal} sorry, I cannot` }),
      verdict: 'unsafe',
      tenant: acme,
    });
    await send('POST', '/v1/moderate', {
      payload: json({ messages: [{ role: 'user', content: `${ocelot} hello` }] }),
      verdict: 'safe',
      auth: 'x-api-key',
      tenant: acme,
    });
    await send('POST', '/v1/moderate', {
      payload: json({ items: [{ prompt: `${tapir} hi` }, { prompt: `${ibis} an election` }] }),
      verdict: 'controversial',
      tenant: acme,
    });
    await send('POST', '/v1/moderations', { payload: json({ input: [zebra, `${quokka} a gun`] }), verdict: 'unsafe', tenant: acme });
    await send('POST', '/predict', { payload: json({ text: `${tapir} hello` }), verdict: 'safe', auth: 'none' });
    await send('POST', '/predict', { payload: json({ text: `${ibis} hello` }), auth: 'unknown' }); // 401
    // Rejected by Fastify before any tenant is known: invalid JSON, a media type that is not JSON.
    await send('POST', '/predict', { payload: `{"text": "${narwhal}` });
    await send('POST', '/predict', { payload: `text=${quokka}`, contentType: 'text/plain' });
    // Rejected by validation, after the key was checked.
    await send('POST', '/predict', { payload: json({ text: ocelot, [tapir]: ibis }), tenant: acme });
    await send('POST', '/predict', { payload: json({ text: `${zebra} ${'x'.repeat(300)}` }), tenant: acme });
    await send('POST', '/v1/moderate', { payload: json({ prompt: narwhal, messages: [] }), tenant: acme });
    await send('GET', `/no-such-route/${ocelot}?q=${tapir}`, { route: null });
    await send('GET', `/predict?text=${ibis}`, { route: null });
    // A moderation stream: its conversation, a chunk with a check, a chunk over MAX_TEXT_CHARS (413), the close.
    const stream = await send('POST', '/v1/streams', { payload: json({ prompt: `${zebra} tell me a story` }), tenant: acme });
    const chunks = `/v1/streams/${stream.json().id}/chunks`;
    await send('POST', chunks, { payload: json({ text: `${quokka} a gun.`, check: true }), route: '/v1/streams/:id/chunks', verdict: 'unsafe', tenant: acme });
    await send('POST', chunks, { payload: json({ text: `${ibis} ${'x'.repeat(300)}` }), route: '/v1/streams/:id/chunks', tenant: acme });
    await send('POST', `/v1/streams/${stream.json().id}/close`, { payload: '{}', route: '/v1/streams/:id/close', tenant: acme });
    await send('GET', '/health/ready', { auth: 'none' });
    await send('GET', '/v1/stats', { auth: 'none' });
  });

  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

  it('never logs a moderated text, a key or its hash', () => {
    expect(log.lines.length).toBeGreaterThan(answered.length);
    for (const secret of [...MARKERS, TENANT.key, KEY_HASH, KEY_HASH.replace(/^sha256:/, ''), UNKNOWN_KEY, 'Bearer']) {
      expect(log.lines.filter((line) => line.includes(secret))).toEqual([]);
    }
  });

  it('writes one JSON access line per request, with its id, route, method, status, latency, tenant and verdict', () => {
    const access = log.records().filter((record) => record.msg === 'request completed');
    for (const request of answered) {
      const lines = access.filter((record) => record.requestId === request.id);
      expect(lines).toHaveLength(1);
      const [line] = lines;
      expect(line).toMatchObject({ level: 'info', status: request.status, route: request.route, tenant: request.tenant });
      expect(['GET', 'POST']).toContain(line.method);
      expect(typeof line.latencyMs).toBe('number');
      expect({ route: line.route, verdict: line.verdict }).toEqual({ route: request.route, verdict: request.verdict });
    }
  });

  it('echoes a caller-chosen request id and logs under it', async () => {
    const response = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'trace-abc.123' } });
    expect(response.headers['x-request-id']).toBe('trace-abc.123');
    expect(log.records().filter((record) => record.requestId === 'trace-abc.123')).toHaveLength(1);
  });
});
