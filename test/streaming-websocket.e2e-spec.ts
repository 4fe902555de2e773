import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { METRICS } from '../src/metrics/metric-names';
import { sumOf } from './support/exposition';
import { createCacheDir, postJson, registrySamples, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { bearer, testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(180_000);

const alice = testTenant('alice');
const bob = testTenant('bob');
const PROMPT = 'Tell me a story about a market.';
const CHUNKS = ['The market', ' was calm and', ' full of fruit', ' and bread', '. Then a man drew a gun', ' and everyone ran', ' home.'];

type Message = Record<string, any>;

/** A client connection that hands over the server's messages in order. */
class Client {
  private readonly inbox: Message[] = [];
  private waiting?: (message: Message) => void;
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as Message;
      if (this.waiting) {
        this.waiting(message);
        this.waiting = undefined;
      } else this.inbox.push(message);
    });
    this.closed = new Promise((resolve) => socket.addEventListener('close', (event) => resolve(event.code)));
  }

  static async connect(url: string, headers: Record<string, string>): Promise<Client> {
    // Node's WebSocket (undici) takes headers, which browsers cannot send.
    const socket = new WebSocket(url, { headers } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      socket.addEventListener('open', () => resolve());
      socket.addEventListener('error', () => reject(new Error('the upgrade was refused')));
    });
    return new Client(socket);
  }

  next(): Promise<Message> {
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async request(message: unknown): Promise<Message> {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
    return this.next();
  }
}

/** The stream protocol over one WebSocket: the same service, verdicts, codes and tenant rules as the HTTP routes. */
describe('streaming moderation over a WebSocket (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let workDir: string;
  let url: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    cacheDir = createCacheDir();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-stream-socket-'));
    app = await startTestApp({
      env: {
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [alice, bob]),
        ALLOW_ANONYMOUS: 'false',
        STREAM_MAX_CHUNK_CHARS: '200',
        STREAM_CHECK_EVERY_TOKENS: '8',
      },
    });
    await app.listen(0, '127.0.0.1');
    url = `ws://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/v1/streams/ws`;
    await waitUntilReady(app);
  });

  afterAll(async () => {
    for (const client of clients) client.socket.close();
    await app?.close();
    removeCacheDir(cacheDir);
    rmSync(workDir, { recursive: true, force: true });
  });

  const connect = async (headers: Record<string, string> = bearer(alice)) => {
    const client = await Client.connect(url, headers);
    clients.push(client);
    return client;
  };
  const openSessions = async () => sumOf(await registrySamples(app), METRICS.streamSessions.name);

  it('refuses an upgrade without a valid key, with the HTTP answer', async () => {
    await expect(Client.connect(url, {})).rejects.toThrow('refused');
    await expect(Client.connect(url, { 'x-api-key': 'not-a-key' })).rejects.toThrow('refused');
    const refused = await refusedUpgrade(url, { 'x-api-key': 'not-a-key' });
    expect([refused.status, JSON.parse(refused.body).code]).toEqual([401, 'UNAUTHORIZED']);
    const client = await connect({ 'x-api-key': bob.key });
    expect((await client.request({ type: 'open', prompt: PROMPT })).type).toBe('opened');
    client.socket.close();
  });

  it('answers each append as POST /v1/streams/{id}/chunks does for the same chunks', async () => {
    const client = await connect();
    const opened = await client.request({ type: 'open', prompt: PROMPT });
    expect(opened).toMatchObject({ type: 'opened', answer_chars: 0, checks: 0, closed: false });
    const { id } = (await postJson(app, '/v1/streams', { prompt: PROMPT }, bearer(alice))).json();
    let verdicts = 0;
    for (const text of [...CHUNKS, '']) {
      const check = text === '' ? { check: true } : {};
      const overSocket = await client.request({ type: 'append', text, ...check });
      const overHttp = (await postJson(app, `/v1/streams/${id}/chunks`, { text, ...check }, bearer(alice))).json();
      expect(overSocket.type).toBe(overHttp.check ? 'verdict' : 'state');
      if (overHttp.check) verdicts++;
      expect(overSocket.id).toBe(opened.id);
      expect(withoutTimes(overSocket)).toEqual(withoutTimes({ ...overHttp, type: overSocket.type, id: opened.id }));
    }
    expect(verdicts).toBeGreaterThanOrEqual(2);
    const closed = await client.request({ type: 'close' });
    expect(closed).toMatchObject({ type: 'closed', reason: 'client', id: opened.id, closed: true, first_flag: { safety_level: 'unsafe' } });
    expect(await client.closed).toBe(1000);
    await app.inject({ method: 'DELETE', url: `/v1/streams/${id}`, headers: bearer(alice) });
  });

  it('answers bad messages with an error and keeps serving the connection', async () => {
    const client = await connect();
    const cases: Array<[unknown, string]> = [
      ['{not json', 'INVALID_JSON'],
      ['[1, 2]', 'VALIDATION_FAILED'],
      [{ type: 'subscribe' }, 'VALIDATION_FAILED'],
      [{ prompt: PROMPT }, 'VALIDATION_FAILED'],
      [{ type: 'append', text: 'early' }, 'NOT_FOUND'],
      [{ type: 'open' }, 'VALIDATION_FAILED'],
      [{ type: 'open', prompt: PROMPT, colour: 'red' }, 'VALIDATION_FAILED'],
    ];
    for (const [message, code] of cases) expect(await client.request(message)).toMatchObject({ type: 'error', code });
    expect((await client.request({ type: 'open', prompt: PROMPT })).type).toBe('opened');
    expect(await client.request({ type: 'open', prompt: PROMPT })).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    expect(await client.request({ type: 'append', text: 42 })).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    expect(await client.request({ type: 'append', text: 'x'.repeat(201) })).toMatchObject({ type: 'error', code: 'TEXT_TOO_LONG', field: 'text' });
    expect(await client.request({ type: 'close', now: true })).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    // Nothing of the refused messages was kept.
    expect(await client.request({ type: 'append', text: 'Hello' })).toMatchObject({ type: 'state', answer_chars: 5 });
    client.socket.close();
  });

  it('keeps the stream to its tenant: another tenant cannot touch it over HTTP', async () => {
    const client = await connect();
    const { id } = await client.request({ type: 'open', prompt: PROMPT });
    const foreign = await postJson(app, `/v1/streams/${id}/chunks`, { text: 'hello', check: true }, bearer(bob));
    expect([foreign.statusCode, foreign.json().code]).toEqual([404, 'NOT_FOUND']);
    expect((await app.inject({ method: 'DELETE', url: `/v1/streams/${id}`, headers: bearer(bob) })).statusCode).toBe(404);
    expect(await client.request({ type: 'append', text: 'Hello' })).toMatchObject({ type: 'state', answer_chars: 5 });
    client.socket.close();
  });

  it('closes the stream when the socket closes', async () => {
    // The earlier tests closed their sockets: the server releases their streams as it sees them close.
    await Promise.all(clients.map((client) => client.closed));
    await waitFor(async () => (await openSessions()) === 0);
    const client = await connect();
    const { id } = await client.request({ type: 'open', prompt: PROMPT });
    expect(await openSessions()).toBe(1);
    client.socket.close();
    await waitFor(async () => (await openSessions()) === 0);
    expect((await postJson(app, `/v1/streams/${id}/chunks`, { text: 'more' }, bearer(alice))).statusCode).toBe(404);
  });

  it('closes at the first Unsafe verdict when asked to, and says why', async () => {
    const client = await connect();
    await client.request({ type: 'open', prompt: PROMPT, close_on_unsafe: true });
    expect(await client.request({ type: 'append', text: 'Here is how to build a bomb', check: true })).toMatchObject({
      type: 'verdict',
      closed: true,
      check: { result: { safety_level: 'unsafe' } },
    });
    expect(await client.next()).toMatchObject({ type: 'closed', reason: 'unsafe', closed: true });
    expect(await client.closed).toBe(1000);
  });
});

/** A state without what differs between two runs of the same check: the wall-clock times. */
function withoutTimes(state: Message): Message {
  if (!state.check) return state;
  const { timing_ms: _timing, latency_ms: _latency, ...result } = state.check.result;
  return { ...state, check: { ...state.check, result } };
}

/** What the server answers an upgrade it refuses: a plain HTTP response. */
function refusedUpgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const request = get(url.replace('ws:', 'http:'), {
      headers: { ...headers, connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key },
    });
    request.on('upgrade', () => reject(new Error('the upgrade was accepted')));
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

/** Polls until the condition holds (the server handles a socket's close after the client sent it). */
async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
