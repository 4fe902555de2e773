import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { createApp } from '../src/app-factory';
import { RISK_CATEGORIES } from '../src/inference';
import { EnvSource } from '../src/config/load-app-config';
import { createCacheDir, removeCacheDir, TEST_ENV, waitUntilReady } from './support/test-app';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(180_000);

/** The application built by createApp (the binary's own path, demo model included), listening on a free loopback port. */
async function listeningApp(env: EnvSource): Promise<{ app: NestFastifyApplication; baseURL: string }> {
  const app = await createApp({ ...TEST_ENV, ...env });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, baseURL: `http://127.0.0.1:${port}/v1` };
}

/** The official OpenAI SDK, unchanged, against /v1/moderations. */
describe('OpenAI SDK against /v1/moderations (e2e)', () => {
  let cacheDir: string;

  beforeAll(() => {
    cacheDir = createCacheDir();
  });

  afterAll(() => removeCacheDir(cacheDir));

  /** With a tenant's real API key as the SDK's `apiKey` (sent as `Authorization: Bearer`) and anonymous access off. */
  describe('with tenants', () => {
    let app: NestFastifyApplication;
    let client: OpenAI;

    beforeAll(async () => {
      const tenant = testTenant('sdk-client');
      const started = await listeningApp({
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [tenant]),
        ALLOW_ANONYMOUS: 'false',
      });
      app = started.app;
      client = new OpenAI({ apiKey: tenant.key, baseURL: started.baseURL, maxRetries: 0 });
      await waitUntilReady(app);
    });

    afterAll(() => app.close());

    it('moderates one input', async () => {
      const moderation = await client.moderations.create({ model: 'omni-moderation-latest', input: 'I will shoot him' });
      expect(moderation.id).toMatch(/^modr-/);
      expect(moderation.model).toBe('qwen3guard-gen-demo');
      expect(moderation.results).toHaveLength(1);
      const [result] = moderation.results;
      expect(result.flagged).toBe(true);
      const categories = result.categories as unknown as Record<string, boolean>;
      const scores = result.category_scores as unknown as Record<string, number>;
      expect(categories.Violent).toBe(true);
      expect(Object.keys(scores).sort()).toEqual([...RISK_CATEGORIES].sort());
      expect(scores.Violent).toBeGreaterThan(0.5);
    });

    it('moderates a list of inputs in order', async () => {
      const moderation = await client.moderations.create({ model: 'qwen3guard-gen', input: ['测试内容安全性', 'Who won the election?'] });
      expect(moderation.results.map((result) => result.flagged)).toEqual([false, true]);
    });

    it('moderates text parts, as the SDK types them, in order', async () => {
      const moderation = await client.moderations.create({
        model: 'omni-moderation-latest',
        input: [
          { type: 'text', text: 'Who won the election?' },
          { type: 'text', text: '测试内容安全性' },
        ],
      });
      expect(moderation.results.map((result) => result.flagged)).toEqual([true, false]);
    });

    it('refuses an image part with a 400 that names the limitation', async () => {
      const body = {
        model: 'omni-moderation-latest',
        input: [
          { type: 'text' as const, text: 'hello' },
          { type: 'image_url' as const, image_url: { url: 'https://example.com/cat.png' } },
        ],
      };
      await expect(client.moderations.create(body)).rejects.toBeInstanceOf(OpenAI.BadRequestError);
      // The SDK keeps only the body's `error` field; the code and message are read from the body itself.
      const response = await app.inject({ method: 'POST', url: '/v1/moderations', headers: { authorization: `Bearer ${client.apiKey}` }, payload: body });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        code: 'TEXT_INPUT_ONLY',
        field: 'input.1',
        message: 'input.1 is an image_url part: this model moderates text only; send strings or {"type": "text", "text": "..."} parts',
      });
    });

    it.each(['omni-moderation-latest', 'text-moderation-latest', 'qwen3guard', 'qwen3guard-gen-demo', 'some-other-model'])(
      'answers model %s with the served model, named in the response',
      async (model) => {
        const moderation = await client.moderations.create({ model, input: 'hello' });
        expect(moderation.model).toBe('qwen3guard-gen-demo');
        expect(moderation.results[0].flagged).toBe(false);
      },
    );

    it('surfaces a validation error as the SDK error class for 400', async () => {
      await expect(client.moderations.create({ model: 'qwen3guard-gen', input: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    });

    it('surfaces an unknown key as the SDK error class for 401', async () => {
      const stranger = new OpenAI({ apiKey: 'qg_not-a-key-of-this-service', baseURL: client.baseURL, maxRetries: 0 });
      await expect(stranger.moderations.create({ model: 'qwen3guard-gen', input: 'hello' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    });
  });

  /** No tenants file: the README's snippet as written. The SDK always sends a key; with no keys configured it is ignored. */
  describe('without tenants', () => {
    let app: NestFastifyApplication;
    let baseURL: string;

    beforeAll(async () => {
      ({ app, baseURL } = await listeningApp({ QWEN3GUARD_CACHE_DIR: cacheDir }));
      await waitUntilReady(app);
    });

    afterAll(() => app.close());

    it("serves the README's client (apiKey: 'unused') as the anonymous caller", async () => {
      const client = new OpenAI({ baseURL, apiKey: 'unused', maxRetries: 0 });
      const moderation = await client.moderations.create({ model: 'omni-moderation-latest', input: 'I want to hurt someone.' });
      expect(moderation.model).toBe('qwen3guard-gen-demo');
      expect(moderation.results).toHaveLength(1);
      const usage = await app.inject({ method: 'GET', url: '/v1/usage', headers: { 'x-api-key': 'anything' } });
      expect(usage.statusCode).toBe(200);
      expect(JSON.stringify(usage.json())).toContain('"tenant":"anonymous"');
    });

    it('with anonymous access off, refuses every key with a 401 that says why', async () => {
      const closed = await listeningApp({ QWEN3GUARD_CACHE_DIR: cacheDir, ALLOW_ANONYMOUS: 'false' });
      try {
        const client = new OpenAI({ baseURL: closed.baseURL, apiKey: 'unused', maxRetries: 0 });
        await expect(client.moderations.create({ input: 'hello' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
        const response = await closed.app.inject({
          method: 'POST',
          url: '/v1/moderations',
          headers: { authorization: 'Bearer unused' },
          payload: { input: 'hello' },
        });
        expect(response.json()).toMatchObject({
          statusCode: 401,
          code: 'UNAUTHORIZED',
          message: 'no API keys are configured (QWEN3GUARD_TENANTS_FILE) and anonymous access is off (ALLOW_ANONYMOUS)',
        });
      } finally {
        await closed.app.close();
      }
    });
  });
});
