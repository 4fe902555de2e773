import { AddressInfo } from 'node:net';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import OpenAI from 'openai';
import { createApp } from '../src/app-factory';
import { RISK_CATEGORIES } from '../src/inference';
import { createCacheDir, removeCacheDir, TEST_ENV, waitUntilReady } from './support/test-app';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(120_000);

/**
 * The official OpenAI SDK, unchanged, against the application built by createApp (the binary's own
 * path, demo model included), listening on a free loopback port, with a tenant's real API key as the SDK's
 * `apiKey` (sent as `Authorization: Bearer`) and anonymous access off.
 */
describe('OpenAI SDK against /v1/moderations (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let client: OpenAI;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    const tenant = testTenant('sdk-client');
    app = await createApp({ ...TEST_ENV, QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [tenant]), ALLOW_ANONYMOUS: 'false' });
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as AddressInfo;
    client = new OpenAI({ apiKey: tenant.key, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

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

  it('surfaces a validation error as the SDK error class for 400', async () => {
    await expect(client.moderations.create({ model: 'qwen3guard-gen', input: [] })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
  });

  it('surfaces an unknown key as the SDK error class for 401', async () => {
    const stranger = new OpenAI({ apiKey: 'qg_not-a-key-of-this-service', baseURL: client.baseURL, maxRetries: 0 });
    await expect(stranger.moderations.create({ model: 'qwen3guard-gen', input: 'hello' })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
  });
});
