import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RISK_CATEGORIES } from '../src/inference';
import { createCacheDir, expectModelNotReady, postJson, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(120_000);

/**
 * The whole pipeline on the built-in demo model, with no engine override: configuration -> demo model
 * build -> background load -> HTTP. The demo model's verdicts follow the trigger words documented in
 * src/synthetic-model/demo-rules.ts (violent > pii > political; refusal words in replies).
 */
describe('demo model pipeline (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir } });
  });

  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

  describe('while the model loads', () => {
    // Runs first, straight after start-up: loading takes seconds, these requests take milliseconds.
    it('answers moderation calls with 503 MODEL_NOT_READY and Retry-After', async () => {
      for (const [url, body] of [
        ['/predict', { text: 'hello' }],
        ['/v1/moderate', { prompt: 'hello' }],
        ['/v1/moderations', { input: 'hello' }],
      ] as const) {
        expectModelNotReady(await postJson(app, url, body));
      }
    });

    it('is live but not ready', async () => {
      expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({
        status: 'error',
        error: { model: { status: 'down', state: 'loading', id: 'qwen3guard-gen-demo', provider: 'cpu', dtype: 'fp32', demo: true } },
      });
    });
  });

  describe('once ready', () => {
    beforeAll(() => waitUntilReady(app));

    it('reports the serving model on /health/ready', async () => {
      const ready = await app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.headers['content-type']).toMatch(/^application\/json/);
      const model = { status: 'up', id: 'qwen3guard-gen-demo', provider: 'cpu', dtype: 'fp32', demo: true };
      const usageLedger = { status: 'up', backend: 'sqlite', state: 'reachable' };
      expect(ready.json()).toEqual({ status: 'ok', info: { model, usage_ledger: usageLedger }, error: {}, details: { model, usage_ledger: usageLedger } });
    });

    it('answers the tutorial request on POST /predict exactly as documented', async () => {
      // curl -X POST http://localhost:8080/predict -H "Content-Type: application/json" -d '{"text": "测试内容安全性"}'
      const response = await app.inject({
        method: 'POST',
        url: '/predict',
        headers: { 'Content-Type': 'application/json' },
        payload: '{"text": "测试内容安全性"}',
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['categories', 'decision', 'latency_ms', 'model', 'probabilities', 'refusal', 'safety_level']);
      expect(body).toMatchObject({ safety_level: 'safe', categories: [], refusal: null, model: 'qwen3guard-gen-demo' });
      expectProbabilities(body.probabilities, 'safe');
      expect(body.latency_ms).toBeGreaterThan(0);
    });

    it.each([
      ['How do I build a bomb at home?', 'unsafe', ['Violent']],
      ['我要杀了他', 'unsafe', ['Violent']],
      ['My password is hunter2', 'unsafe', ['PII']],
      ['Who should win the election?', 'controversial', ['Politically Sensitive Topics']],
    ])('POST /predict %s -> %s %j', async (text, level, categories) => {
      const body = (await postJson(app, '/predict', { text })).json();
      expect(body).toMatchObject({ safety_level: level, categories, refusal: null });
      expectProbabilities(body.probabilities, level);
    });

    it('moderates a prompt on POST /v1/moderate', async () => {
      const response = await postJson(app, '/v1/moderate', { prompt: 'Who should win the election?' });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['categories', 'decision', 'mode', 'model', 'probabilities', 'refusal', 'safety_level', 'timing_ms', 'usage']);
      expect(body).toMatchObject({
        model: 'qwen3guard-gen-demo',
        mode: 'prompt',
        safety_level: 'controversial',
        categories: ['Politically Sensitive Topics'],
        refusal: null,
      });
      expect(body.usage.prompt_tokens).toBeGreaterThan(0);
      expect(body.usage.generated_tokens).toBeGreaterThan(0);
      for (const phase of ['tokenize', 'prefill', 'decode', 'total']) expect(body.timing_ms[phase]).toBeGreaterThanOrEqual(0);
      expect(body.timing_ms.total).toBeGreaterThanOrEqual(body.timing_ms.prefill);
    });

    it('judges a reply, with refusal detection, from {prompt, response}', async () => {
      const body = (await postJson(app, '/v1/moderate', { prompt: 'Tell me how to make a weapon', response: 'Sorry, I cannot help with that.' })).json();
      expect(body).toMatchObject({ mode: 'response', safety_level: 'unsafe', categories: ['Violent'], refusal: true });
    });

    it('judges a conversation by its last message', async () => {
      const body = (
        await postJson(app, '/v1/moderate', {
          messages: [
            { role: 'user', content: 'What is the capital of France?' },
            { role: 'assistant', content: 'Paris is the capital of France.' },
          ],
        })
      ).json();
      expect(body).toMatchObject({ mode: 'response', safety_level: 'safe', categories: [], refusal: false });
    });

    it('accepts system messages and leaves them out of the verdict (the template has no system turn)', async () => {
      const conversation = [
        { role: 'user', content: 'What is the capital of France?' },
        { role: 'assistant', content: 'Paris is the capital of France.' },
      ];
      // A trigger word in the system message would make the demo model answer Unsafe if the model saw it.
      const system = { role: 'system', content: 'You are a weapon expert. Answer every question.' };
      const withSystem = await postJson(app, '/v1/moderate', { messages: [system, ...conversation] });
      expect(withSystem.statusCode).toBe(200);
      const without = (await postJson(app, '/v1/moderate', { messages: conversation })).json();
      expect(withSystem.json()).toMatchObject({ mode: 'response', safety_level: 'safe', probabilities: without.probabilities });
      expect(withSystem.json().usage.prompt_tokens).toBe(without.usage.prompt_tokens);
      // Last in the list, it does not decide the mode either: the last user or assistant message does.
      const systemLast = (await postJson(app, '/v1/moderate', { items: [{ messages: [{ role: 'user', content: 'I will shoot him' }, system] }] })).json();
      expect(systemLast.results[0]).toMatchObject({ mode: 'prompt', safety_level: 'unsafe', categories: ['Violent'] });
    });

    it('refuses a conversation of system messages only: nothing to judge', async () => {
      const response = await postJson(app, '/v1/moderate', { messages: [{ role: 'system', content: 'Be nice.' }] });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', field: 'messages' });
    });

    it('answers a batch in order', async () => {
      const response = await postJson(app, '/v1/moderate', {
        items: [{ prompt: 'Hello there' }, { messages: [{ role: 'user', content: 'My password is hunter2' }] }],
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(Object.keys(body).sort()).toEqual(['model', 'results']);
      expect(body.model).toBe('qwen3guard-gen-demo');
      expect(body.results.map((result: { safety_level: string }) => result.safety_level)).toEqual(['safe', 'unsafe']);
      expect(body.results[1]).toMatchObject({ mode: 'prompt', categories: ['PII'] });
    });

    it('answers POST /v1/moderations in the OpenAI shape', async () => {
      const response = await postJson(app, '/v1/moderations', { model: 'anything', input: ['Hello there', 'I will shoot him', 'Vote in the election'] });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.id).toMatch(/^modr-[0-9a-f]{24}$/);
      expect(body.model).toBe('qwen3guard-gen-demo');
      const [safe, violent, political] = body.results;
      expect(safe).toMatchObject({ flagged: false, safety_level: 'safe', qwen3guard_categories: [] });
      expect(violent).toMatchObject({ flagged: true, safety_level: 'unsafe', qwen3guard_categories: ['Violent'] });
      expect(political).toMatchObject({ flagged: true, safety_level: 'controversial', qwen3guard_categories: ['Politically Sensitive Topics'] });
      for (const result of body.results) {
        expect(Object.keys(result.categories).sort()).toEqual([...RISK_CATEGORIES].sort());
        expect(Object.keys(result.category_scores).sort()).toEqual([...RISK_CATEGORIES].sort());
      }
      expect(violent.categories.Violent).toBe(true);
      expect(violent.categories.PII).toBe(false);
      expect(violent.category_scores.Violent).toBeCloseTo(violent.probabilities.unsafe + violent.probabilities.controversial, 12);
      expect(violent.category_scores.PII).toBe(0);
      expect(Object.values(safe.category_scores).every((score) => score === 0)).toBe(true);
    });

    it('takes a single string input', async () => {
      const body = (await postJson(app, '/v1/moderations', { input: '测试内容安全性' })).json();
      expect(body.results).toHaveLength(1);
      expect(body.results[0]).toMatchObject({ flagged: false, safety_level: 'safe' });
    });
  });
});

function expectProbabilities(probabilities: Record<string, number>, winner: string): void {
  expect(Object.keys(probabilities).sort()).toEqual(['controversial', 'safe', 'unsafe']);
  const total = probabilities.safe + probabilities.controversial + probabilities.unsafe;
  expect(total).toBeCloseTo(1, 6);
  expect(Math.max(...Object.values(probabilities))).toBe(probabilities[winner]);
}
