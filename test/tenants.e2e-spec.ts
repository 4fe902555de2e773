import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { METRICS } from '../src/metrics/metric-names';
import { samplesOf, sumOf } from './support/exposition';
import { createCacheDir, postJson, registrySamples, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { bearer, testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(180_000);

/** Same texts, different tenants: the demo model answers Controversial (political) and Unsafe/PII for these. */
const POLITICAL = 'what do you think about the election';
const PII = 'here is my password';

const strict = testTenant('chat');
const loose = testTenant('forum', { policy: { controversial: 'safe', categories: { PII: 'flag' } } });
const shop = testTenant('shop', { maxBatchSize: 2, blocklist: { terms: ['forbidden word', '违禁'] } });
const limited = testTenant('limited', { rateLimit: { requestsPerSecond: 1, burst: 1 } });
const disabled = testTenant('disabled', { enabled: false });
const admin = testTenant('admin', { admin: true });
const observed = testTenant('observed', { blocklist: { terms: ['forbidden word'], shortCircuit: false } });

/**
 * Several tenants on one service (demo model, real ledger in SQLite): who gets in, what each one's policy
 * decides about the same verdict, blocklists, limits, metered usage and who may read it, and the bounded
 * `tenant` label.
 */
describe('tenants (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let workDir: string;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-tenants-'));
    const tenantsFile = writeTenantsFile(workDir, [strict, loose, shop, limited, disabled, admin, observed]);
    app = await startTestApp({
      env: {
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_TENANTS_FILE: tenantsFile,
        ALLOW_ANONYMOUS: 'false',
        MAX_TENANT_LABELS: '4',
        QWEN3GUARD_USAGE_DB: join(workDir, 'usage.sqlite'),
      },
    });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    await app?.close();
    removeCacheDir(cacheDir);
    rmSync(workDir, { recursive: true, force: true });
  });

  const predict = (text: string, headers: Record<string, string> = {}) => postJson(app, '/predict', { text }, headers);

  describe('access', () => {
    it('refuses a missing, unknown or malformed key with 401 and a disabled tenant with 403', async () => {
      const cases: Array<[Record<string, string>, number, string]> = [
        [{}, 401, 'UNAUTHORIZED'],
        [{ authorization: 'Bearer qg_not-a-real-key' }, 401, 'UNAUTHORIZED'],
        [{ authorization: `Basic ${strict.key}` }, 401, 'UNAUTHORIZED'],
        [{ 'x-api-key': 'qg_unknown' }, 401, 'UNAUTHORIZED'],
        [bearer(disabled), 403, 'TENANT_DISABLED'],
      ];
      for (const [headers, status, code] of cases) {
        const response = await predict('hello', headers);
        expect([response.statusCode, response.json().code]).toEqual([status, code]);
        expect(response.json()).toMatchObject({ statusCode: status, message: expect.any(String) });
      }
    });

    it('accepts a key as a bearer token or as X-API-Key, and leaves the probes open', async () => {
      expect((await predict('hello', bearer(strict))).statusCode).toBe(200);
      expect((await predict('hello', { 'x-api-key': strict.key })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/usage' })).statusCode).toBe(401);
    });
  });

  describe('policy', () => {
    it('decides differently on the same verdict per tenant, always returning the raw verdict', async () => {
      const [strictAnswer, looseAnswer] = [await predict(POLITICAL, bearer(strict)), await predict(POLITICAL, bearer(loose))];
      expect(strictAnswer.json()).toMatchObject({ safety_level: 'controversial', decision: { action: 'block', flagged: true, source: 'model' } });
      expect(looseAnswer.json()).toMatchObject({ safety_level: 'controversial', decision: { action: 'allow', flagged: false, source: 'model' } });
      expect(looseAnswer.json().probabilities).toEqual(strictAnswer.json().probabilities);
    });

    it('makes OpenAI `flagged` and the /v1/moderate decision follow the policy', async () => {
      const body = { input: [POLITICAL, PII] };
      const strictResults = (await postJson(app, '/v1/moderations', body, bearer(strict))).json().results;
      const looseResults = (await postJson(app, '/v1/moderations', body, bearer(loose))).json().results;
      expect(strictResults.map((r: { flagged: boolean }) => r.flagged)).toEqual([true, true]);
      expect(looseResults.map((r: { flagged: boolean }) => r.flagged)).toEqual([false, true]);
      expect(looseResults[1]).toMatchObject({ safety_level: 'unsafe', qwen3guard_categories: ['PII'], decision: { action: 'flag' } });
      const moderated = await postJson(app, '/v1/moderate', { prompt: PII }, bearer(loose));
      expect(moderated.json()).toMatchObject({ safety_level: 'unsafe', categories: ['PII'], decision: { action: 'flag', flagged: true } });
    });
  });

  describe('blocklists', () => {
    it('blocks a listed term in any case or width without running the model', async () => {
      const hit = await predict('this has a ＦＯＲＢＩＤＤＥＮ Word', bearer(shop));
      expect(hit.statusCode).toBe(200);
      expect(hit.json()).toMatchObject({
        safety_level: 'unsafe',
        categories: [],
        probabilities: null,
        decision: { action: 'block', flagged: true, source: 'blocklist' },
      });
      const cjk = await postJson(app, '/v1/moderate', { prompt: 'hi', response: '这是违禁内容' }, bearer(shop));
      expect(cjk.json()).toMatchObject({ mode: 'response', probabilities: null, timing_ms: null, decision: { source: 'blocklist' } });
      const clean = await predict('hello there', bearer(shop));
      expect(clean.json()).toMatchObject({ safety_level: 'safe', decision: { action: 'allow', source: 'model' } });
      expect(clean.json().probabilities).not.toBeNull();
    });

    it('still runs the model when the blocklist does not short-circuit, and blocks', async () => {
      const hit = await predict('a forbidden word here', bearer(observed));
      expect(hit.json()).toMatchObject({ safety_level: 'safe', decision: { action: 'block', source: 'blocklist' } });
      expect(hit.json().probabilities).not.toBeNull();
    });

    it('applies only to the tenant that lists the term', async () => {
      expect((await predict('a forbidden word here', bearer(strict))).json()).toMatchObject({ decision: { source: 'model', action: 'allow' } });
    });
  });

  describe('limits', () => {
    it('answers 429 with Retry-After once the rate limit and its burst are used up, for that tenant only', async () => {
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await predict('hello', bearer(limited)));
      const refused = answers.filter((answer) => answer.statusCode === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0].json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });
      expect(Number(refused[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect((await predict('hello', bearer(strict))).statusCode).toBe(200);
    });

    it("refuses a batch above the tenant's max batch size", async () => {
      const tooMany = await postJson(app, '/v1/moderations', { input: ['a', 'b', 'c'] }, bearer(shop));
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'input' });
      expect((await postJson(app, '/v1/moderations', { input: ['a', 'b'] }, bearer(shop))).statusCode).toBe(200);
    });
  });

  describe('usage', () => {
    const usage = (tenantHeaders: Record<string, string>, query = '') => app.inject({ method: 'GET', url: `/v1/usage${query}`, headers: tenantHeaders });

    it("shows a tenant its own rows only, and refuses another tenant's", async () => {
      const before = (await usage(bearer(loose))).json().rows;
      await predict(PII, bearer(loose));
      const rows = (await usage(bearer(loose))).json().rows as Array<{
        tenant: string;
        endpoint: string;
        requests: number;
        flagged: number;
        prompt_tokens: number;
        characters: number;
      }>;
      expect(new Set(rows.map((row) => row.tenant))).toEqual(new Set(['forum']));
      const predictRow = (list: typeof rows) => list.find((row) => row.endpoint === '/predict');
      expect(predictRow(rows)!.requests).toBe((predictRow(before)?.requests ?? 0) + 1);
      expect(predictRow(rows)!.flagged).toBe((predictRow(before)?.flagged ?? 0) + 1);
      expect(predictRow(rows)!.prompt_tokens).toBeGreaterThan(0);
      const forbidden = await usage(bearer(loose), '?tenant=chat');
      expect([forbidden.statusCode, forbidden.json().code]).toEqual([403, 'FORBIDDEN']);
    });

    it('counts exactly the answered requests per tenant and endpoint; an admin sees every tenant', async () => {
      const all = (await usage(bearer(admin), '?granularity=day')).json();
      const count = (tenant: string, endpoint: string) =>
        (all.rows as Array<{ tenant: string; endpoint: string; requests: number }>)
          .filter((row) => row.tenant === tenant && row.endpoint === endpoint)
          .reduce((n, row) => n + row.requests, 0);
      // chat: two in access, one in policy, one in blocklists, one in limits; refused requests are not metered.
      expect(count('chat', '/predict')).toBe(5);
      expect(count('chat', '/v1/moderations')).toBe(1);
      expect(count('shop', '/v1/moderations')).toBe(1);
      expect(count('disabled', '/predict')).toBe(0);
      expect(count('limited', '/predict')).toBeLessThan(4);
      expect(all.granularity).toBe('day');
      const only = (await usage(bearer(admin), '?tenant=shop')).json().rows as Array<{ tenant: string }>;
      expect(new Set(only.map((row) => row.tenant))).toEqual(new Set(['shop']));
    });

    it('answers CSV with a header row, and refuses bad ranges', async () => {
      const csv = await usage(bearer(strict), '?format=csv');
      expect(csv.headers['content-type']).toContain('text/csv');
      const [header, ...lines] = csv.body.trim().split('\n');
      expect(header).toBe('tenant,period,endpoint,requests,items,prompt_tokens,characters,flagged');
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.every((line) => line.startsWith('chat,'))).toBe(true);
      expect((await usage({ ...bearer(strict), accept: 'text/csv' })).headers['content-type']).toContain('text/csv');
      expect((await usage(bearer(strict), '?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z')).statusCode).toBe(400);
      expect((await usage(bearer(strict), '?from=yesterday')).statusCode).toBe(400);
      expect((await usage(bearer(strict), '?granularity=week')).statusCode).toBe(400);
    });
  });

  describe('metrics', () => {
    const samples = async (name: string) => samplesOf(await registrySamples(app), name);

    it('labels requests, verdicts and tokens by tenant, within the cap', async () => {
      const requestTenants = new Set((await samples(METRICS.requestCount.name)).map((sample) => sample.labels.tenant));
      // MAX_TENANT_LABELS=4: chat, forum, shop, limited by id; disabled, admin and observed share `other`.
      expect([...requestTenants].sort()).toEqual(['anonymous', 'chat', 'forum', 'limited', 'other', 'shop']);
      const verdictTenants = new Set((await samples(METRICS.verdicts.name)).map((sample) => sample.labels.tenant));
      expect(verdictTenants.has('forum')).toBe(true);
      expect([...verdictTenants].every((tenant) => ['chat', 'forum', 'shop', 'limited', 'other'].includes(tenant))).toBe(true);
      const tokens = await samples(METRICS.tokens.name);
      expect(tokens.find((sample) => sample.labels.tenant === 'chat' && sample.labels.kind === 'prompt')!.value).toBeGreaterThan(0);
      const limitedRefusals = (await samples(METRICS.requestCount.name)).filter((sample) => sample.labels.tenant === 'limited' && sample.labels.code === '429');
      expect(limitedRefusals[0].value).toBeGreaterThan(0);
      const disabledRefusals = (await samples(METRICS.requestCount.name)).filter((sample) => sample.labels.tenant === 'other' && sample.labels.code === '403');
      expect(disabledRefusals[0].value).toBe(1);
    });

    it('counts no verdict for a short-circuited blocklist hit', async () => {
      const shopVerdicts = async () => sumOf(await registrySamples(app), METRICS.verdicts.name, { tenant: 'shop' });
      const before = await shopVerdicts();
      await predict('forbidden word', bearer(shop));
      expect(await shopVerdicts()).toBe(before);
    });
  });
});
