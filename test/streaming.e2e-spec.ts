import { mkdtempSync, rmSync } from 'node:fs';
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
const carol = testTenant('carol', { blocklist: { terms: ['Rotten Fish'] } });
const PROMPT = 'Tell me a story about a market.';

/**
 * Streaming moderation over HTTP on the demo model: open, append with checks when due, close; verdicts equal
 * to /v1/moderate's; tenant isolation, limits, eviction, metrics and metering.
 */
describe('streaming moderation (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let workDir: string;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-streaming-'));
    app = await startTestApp({
      env: {
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [alice, bob, carol]),
        ALLOW_ANONYMOUS: 'false',
        STREAM_MAX_SESSIONS_PER_TENANT: '3',
        STREAM_MAX_SESSIONS: '5',
        STREAM_MAX_CHUNK_CHARS: '200',
        STREAM_CHECK_EVERY_TOKENS: '8',
        STREAM_MAX_KV_TOKENS: '450',
      },
    });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    await app?.close();
    removeCacheDir(cacheDir);
    rmSync(workDir, { recursive: true, force: true });
  });

  const open = (body: unknown, tenant = alice) => postJson(app, '/v1/streams', body, bearer(tenant));
  const append = (id: string, body: unknown, tenant = alice) => postJson(app, `/v1/streams/${id}/chunks`, body, bearer(tenant));
  const close = (id: string, tenant = alice) => app.inject({ method: 'DELETE', url: `/v1/streams/${id}`, headers: bearer(tenant) });
  const moderate = async (answer: string) => (await postJson(app, '/v1/moderate', { prompt: PROMPT, response: answer }, bearer(alice))).json();

  it('answers with a verdict when one is due, equal to /v1/moderate on the answer so far, and says where it first turned', async () => {
    const opened = await open({ prompt: PROMPT });
    expect(opened.statusCode).toBe(201);
    const { id } = opened.json();
    const chunks = ['The market', ' was calm and', ' full of fruit', ' and bread', '. Then a man drew a gun', ' and everyone ran', ' home.'];
    let soFar = '';
    const checks: Array<{ check: number; answer_chars: number; result: Record<string, unknown> }> = [];
    for (const text of chunks) {
      soFar += text;
      const response = await append(id, { text });
      expect(response.statusCode).toBe(200);
      const state = response.json();
      expect(state.answer_chars).toBe(soFar.length);
      if (!state.check) continue;
      checks.push(state.check);
      const full = await moderate(soFar);
      const { safety_level, categories, refusal, probabilities } = state.check.result;
      expect({ safety_level, categories, refusal }).toEqual({ safety_level: full.safety_level, categories: full.categories, refusal: full.refusal });
      for (const level of Object.keys(full.probabilities)) expect(probabilities[level]).toBeCloseTo(full.probabilities[level], 4);
    }
    // The sentence end after "fruit and bread" and the token count both made checks due; not every chunk did.
    expect(checks.length).toBeGreaterThanOrEqual(2);
    expect(checks.length).toBeLessThan(chunks.length);
    const forced = (await append(id, { text: '', check: true })).json();
    expect(forced.check.result.safety_level).toBe('unsafe');
    const flagged = checks.find((check) => check.result.safety_level === 'unsafe')!;
    expect(forced.first_flag).toEqual({ check: flagged.check, answer_chars: flagged.answer_chars, safety_level: 'unsafe' });
    expect(forced.check.reused_tokens).toBeGreaterThan(forced.check.computed_tokens);

    const closed = await close(id);
    expect(closed.statusCode).toBe(200);
    expect(closed.json().closed).toBe(true);
    expect((await append(id, { text: 'more' })).statusCode).toBe(404);
    expect((await close(id)).statusCode).toBe(404);
  });

  it('closes at the first Unsafe verdict when asked to', async () => {
    const { id } = (
      await open({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: PROMPT },
        ],
        close_on_unsafe: true,
      })
    ).json();
    const state = (await append(id, { text: 'Here is how to build a bomb', check: true })).json();
    expect(state).toMatchObject({ closed: true, check: { result: { safety_level: 'unsafe' } } });
    expect((await append(id, { text: '.' })).statusCode).toBe(404);
  });

  it('keeps streams to their tenant: another tenant gets 404, never the stream', async () => {
    const { id } = (await open({ prompt: PROMPT })).json();
    const foreign = await append(id, { text: 'hello', check: true }, bob);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain('hello');
    expect((await close(id, bob)).statusCode).toBe(404);
    expect((await append(id, { text: 'hello' })).statusCode).toBe(200);
    await close(id);
  });

  it("applies the tenant's blocklist to the answer so far at each check, deciding as /v1/moderate does", async () => {
    const { id } = (await open({ prompt: PROMPT }, carol)).json();
    const before = (await append(id, { text: 'The market sold rotten', check: true }, carol)).json().check.result;
    expect(before.decision).toEqual({ action: 'allow', flagged: false, source: 'model' });
    // The term spans two chunks, in another case and full width.
    const hit = (await append(id, { text: ' ＦＩＳＨ and bread', check: true }, carol)).json().check.result;
    expect(hit.decision).toEqual({ action: 'block', flagged: true, source: 'blocklist' });
    expect(hit.safety_level).toBe(before.safety_level); // the model still judged the answer
    const full = (await postJson(app, '/v1/moderate', { prompt: PROMPT, response: 'The market sold rotten ＦＩＳＨ and bread' }, bearer(carol))).json();
    expect(full.decision).toEqual(hit.decision);
    // Another tenant's stream of the same text is not blocked by carol's list.
    const other = (await open({ prompt: PROMPT })).json().id;
    expect((await append(other, { text: 'The market sold rotten fish', check: true })).json().check.result.decision.source).toBe('model');
    await close(other);
    await close(id, carol);
  });

  it('refuses bad input with a clear 4xx', async () => {
    const cases: Array<[() => ReturnType<typeof open>, number, string]> = [
      [() => open({}), 400, 'VALIDATION_FAILED'],
      [() => open({ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }), 400, 'VALIDATION_FAILED'],
      [
        () =>
          open({
            messages: [
              { role: 'user', content: 'a' },
              { role: 'assistant', content: 'b' },
            ],
          }),
        400,
        'VALIDATION_FAILED',
      ],
      [() => open({ prompt: 'a', check_every_tokens: 0 }), 400, 'VALIDATION_FAILED'],
      [() => append('no-such-stream', { text: 'x' }), 404, 'NOT_FOUND'],
      [() => postJson(app, '/v1/streams', { prompt: 'a' }), 401, 'UNAUTHORIZED'],
    ];
    for (const [send, status, code] of cases) {
      const response = await send();
      expect([response.statusCode, response.json().code]).toEqual([status, code]);
    }
    const { id } = (await open({ prompt: PROMPT })).json();
    const tooLong = await append(id, { text: 'x'.repeat(201) });
    expect([tooLong.statusCode, tooLong.json().code, tooLong.json().field]).toEqual([413, 'TEXT_TOO_LONG', 'text']);
    expect([(await append(id, { text: 42 })).statusCode, (await append(id, {})).statusCode]).toEqual([400, 400]);
    // Nothing of the refused chunks was kept.
    expect((await append(id, { text: '' })).json().answer_chars).toBe(0);
    await close(id);
  });

  it('refuses a tenant past its stream limit with 429 and Retry-After, and others are unaffected', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await open({ prompt: PROMPT })).json().id);
    const refused = await open({ prompt: PROMPT });
    expect([refused.statusCode, refused.json().code]).toEqual([429, 'STREAM_LIMIT_REACHED']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    const other = await open({ prompt: PROMPT }, bob);
    expect(other.statusCode).toBe(201);
    await close(other.json().id, bob);
    for (const id of ids) await close(id);
  });

  it('refuses a stream past the service-wide limit with 503 and Retry-After, whichever tenant asks', async () => {
    const held: Array<[typeof alice, string]> = [];
    for (const tenant of [alice, alice, alice, bob, bob]) {
      const opened = await open({ prompt: PROMPT }, tenant);
      expect(opened.statusCode).toBe(201);
      held.push([tenant, opened.json().id]);
    }
    const refused = await open({ prompt: PROMPT }, carol);
    expect([refused.statusCode, refused.json().code]).toEqual([503, 'STREAM_CAPACITY_REACHED']);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    for (const [tenant, id] of held) expect((await close(id, tenant)).statusCode).toBe(200);
    const admitted = await open({ prompt: PROMPT }, carol);
    expect(admitted.statusCode).toBe(201);
    await close(admitted.json().id, carol);
  });

  it('evicts the least recently used KV past the token budget, the evicted stream recomputing to the same verdict', async () => {
    const first = (await open({ prompt: PROMPT })).json().id;
    const second = (await open({ prompt: PROMPT })).json().id;
    const a1 = (await append(first, { text: 'A peaceful answer about the election', check: true })).json().check;
    await append(second, { text: 'Another peaceful answer about gardens', check: true });
    const before = sumOf(await registrySamples(app), METRICS.streamEvictions.name);
    expect(before).toBeGreaterThan(0); // one stream holds about 290 positions: two exceed 450
    const a2 = (await append(first, { text: '', check: true })).json().check;
    expect(a2.result.safety_level).toBe(a1.result.safety_level);
    expect(a2.reused_tokens).toBeLessThan(a1.reused_tokens + a1.computed_tokens - 8); // recomputed from the template prefix
    await close(first);
    await close(second);
  });

  it('counts sessions, checks, reused and computed tokens, and meters every check', async () => {
    const samples = await registrySamples(app);
    expect(sumOf(samples, METRICS.streamSessions.name)).toBe(0);
    expect(sumOf(samples, METRICS.streamChecks.name)).toBeGreaterThanOrEqual(6);
    expect(sumOf(samples, METRICS.streamTokens.name, { kind: 'reused' })).toBeGreaterThan(sumOf(samples, METRICS.streamTokens.name, { kind: 'computed' }));
    const usage = await app.inject({ method: 'GET', url: '/v1/usage', headers: bearer(alice) });
    expect(usage.statusCode).toBe(200);
    expect(usage.body).toContain('/v1/streams');
  });

  describe('with a short idle timeout', () => {
    let idleApp: NestFastifyApplication;
    const IDLE_TIMEOUT_MS = 1_000;

    beforeAll(async () => {
      idleApp = await startTestApp({
        env: {
          QWEN3GUARD_CACHE_DIR: cacheDir,
          QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [alice]),
          ALLOW_ANONYMOUS: 'false',
          STREAM_MAX_SESSIONS_PER_TENANT: '1',
          STREAM_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        },
      });
      await waitUntilReady(idleApp);
    });

    afterAll(() => idleApp?.close());

    it('closes a stream nobody touches, which frees its place; appending keeps one open', async () => {
      const openIdle = () => postJson(idleApp, '/v1/streams', { prompt: PROMPT }, bearer(alice));
      const appendIdle = (id: string) => postJson(idleApp, `/v1/streams/${id}/chunks`, { text: 'Still here.' }, bearer(alice));
      const { id } = (await openIdle()).json();
      expect((await openIdle()).statusCode).toBe(429);
      // Touched every quarter timeout for two timeouts: still open.
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_TIMEOUT_MS / 4));
        expect((await appendIdle(id)).statusCode).toBe(200);
      }
      // Left alone: closed within a few sweeps (bounded wait).
      let status = 200;
      for (let waited = 0; status === 200 && waited < 10 * IDLE_TIMEOUT_MS; waited += 250) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (waited >= IDLE_TIMEOUT_MS) status = (await appendIdle(id)).statusCode;
      }
      expect(status).toBe(404);
      const reopened = await openIdle();
      expect(reopened.statusCode).toBe(201);
      await idleApp.inject({ method: 'DELETE', url: `/v1/streams/${reopened.json().id}`, headers: bearer(alice) });
    });
  });
});
