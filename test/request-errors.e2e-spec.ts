import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { engineThatFailsToLoad, postJson, startTestApp } from './support/test-app';

/**
 * Every client mistake is answered before the engine is asked, in the one error shape, so this suite
 * runs without a model (the engine never loads). Limits are small to keep the payloads small.
 */
describe('request errors (e2e)', () => {
  let app: NestFastifyApplication;

  beforeAll(async () => {
    app = await startTestApp({
      env: { BODY_LIMIT_BYTES: '2048', MAX_TEXT_CHARS: '50', MAX_BATCH_ITEMS: '3' },
      engine: engineThatFailsToLoad(),
    });
  });

  afterAll(() => app.close());

  function expectError(response: { statusCode: number; json(): unknown }, status: number, code: string, field?: string) {
    expect(response.statusCode).toBe(status);
    const body = response.json() as Record<string, unknown>;
    expect(body).toMatchObject({ statusCode: status, code });
    expect(typeof body.error).toBe('string');
    expect(typeof body.message).toBe('string');
    expect(body.field).toBe(field);
    expect(JSON.stringify(body)).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
    return body;
  }

  describe('POST /predict validation', () => {
    it.each([
      [{}, 'text must be a string'],
      [{ text: 5 }, 'text must be a string'],
      [{ text: null }, 'text must be a string'],
      [{ text: ['a'] }, 'text must be a string'],
      [{ text: '' }, 'text should not be empty'],
    ])('%j -> 400 naming text', async (body, message) => {
      const error = expectError(await postJson(app, '/predict', body), 400, 'VALIDATION_FAILED', 'text');
      expect(error.message).toBe(message);
    });

    it('rejects an unknown field', async () => {
      const error = expectError(await postJson(app, '/predict', { text: 'hi', lang: 'en' }), 400, 'VALIDATION_FAILED', 'lang');
      expect(error.message).toBe('property lang should not exist');
    });

    it.each(['[1, 2]', '"just a string"', '42', 'null'])('rejects the JSON body %s that is not an object', async (payload) => {
      const error = expectError(await postJson(app, '/predict', payload), 400, 'VALIDATION_FAILED');
      expect(error.message).toBe('the request body must be a JSON object');
    });

    it('treats a POST without a body as missing fields', async () => {
      const response = await app.inject({ method: 'POST', url: '/predict' });
      expectError(response, 400, 'VALIDATION_FAILED', 'text');
    });
  });

  describe('body parsing', () => {
    it('answers invalid JSON with 400 INVALID_JSON, without echoing the body', async () => {
      const error = expectError(await postJson(app, '/predict', '{"text": "secret words'), 400, 'INVALID_JSON');
      expect(JSON.stringify(error)).not.toContain('secret words');
    });

    it('answers an empty JSON body with 400 INVALID_JSON', async () => {
      expectError(await postJson(app, '/predict', ''), 400, 'INVALID_JSON');
    });

    it.each([
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'text=hello'],
      ['application/xml', '<text>hello</text>'],
    ])('answers %s with 415', async (contentType, payload) => {
      const response = await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': contentType }, payload });
      expectError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('accepts a charset parameter on application/json', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/predict',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        payload: JSON.stringify({ text: '' }),
      });
      expectError(response, 400, 'VALIDATION_FAILED', 'text');
    });

    it('answers a body over BODY_LIMIT_BYTES with 413 PAYLOAD_TOO_LARGE', async () => {
      expectError(await postJson(app, '/predict', { text: 'x'.repeat(3000) }), 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('text and batch limits', () => {
    it('answers a text over MAX_TEXT_CHARS with 413 TEXT_TOO_LONG naming the field', async () => {
      const error = expectError(await postJson(app, '/predict', { text: 'y'.repeat(51) }), 413, 'TEXT_TOO_LONG', 'text');
      expect(error.message).toBe('text is longer than 50 characters');
    });

    it('counts characters, not UTF-16 units', async () => {
      // 50 emoji are 100 UTF-16 units but 50 characters: within the limit, so the request reaches the engine (503).
      const response = await postJson(app, '/predict', { text: '😀'.repeat(50) });
      expect(response.statusCode).toBe(503);
    });

    it.each([
      ['/v1/moderate', { prompt: 'ok', response: 'z'.repeat(51) }, 'response'],
      [
        '/v1/moderate',
        {
          messages: [
            { role: 'user', content: 'ok' },
            { role: 'assistant', content: 'z'.repeat(51) },
          ],
        },
        'messages.1.content',
      ],
      ['/v1/moderate', { items: [{ prompt: 'ok' }, { prompt: 'z'.repeat(51) }] }, 'items.1.prompt'],
      ['/v1/moderations', { input: ['ok', 'z'.repeat(51)] }, 'input.1'],
      ['/v1/moderations', { input: 'z'.repeat(51) }, 'input'],
    ])('%s %j -> 413 naming %s', async (url, body, field) => {
      expectError(await postJson(app, url, body), 413, 'TEXT_TOO_LONG', field);
    });

    it('rejects a batch over MAX_BATCH_ITEMS', async () => {
      const items = ['a', 'b', 'c', 'd'].map((prompt) => ({ prompt }));
      const error = expectError(await postJson(app, '/v1/moderate', { items }), 400, 'VALIDATION_FAILED', 'items');
      expect(error.message).toBe('items must contain at most 3 elements');
    });

    it('rejects an OpenAI input list over MAX_BATCH_ITEMS', async () => {
      expectError(await postJson(app, '/v1/moderations', { input: ['a', 'b', 'c', 'd'] }), 400, 'VALIDATION_FAILED', 'input');
    });
  });

  describe('POST /v1/moderate validation', () => {
    it.each([
      [{}, undefined, 'provide exactly one of prompt, messages or items'],
      [{ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ prompt: 'a', items: [{ prompt: 'b' }] }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ messages: [{ role: 'user', content: 'b' }], items: [{ prompt: 'b' }] }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ response: 'a' }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ prompt: 7 }, 'prompt', 'prompt must be a string'],
      [{ prompt: '' }, 'prompt', 'prompt should not be empty'],
      [{ prompt: 'a', response: '' }, 'response', 'response should not be empty'],
      [{ messages: [{ role: 'user', content: 'a' }], response: 'b' }, 'response', 'response is only allowed together with prompt'],
      [{ messages: 'hello' }, 'messages', 'messages must be an array'],
      [{ messages: [] }, 'messages', 'messages must contain at least 1 elements'],
      [{ messages: [{ role: 'tool', content: 'a' }] }, 'messages.0.role', 'messages.0.role must be one of the following values: system, user, assistant'],
      [
        { messages: [{ role: 'system', content: 'a' }] },
        'messages',
        'messages must hold a user or assistant message: system messages are not shown to the model',
      ],
      [{ messages: [{ role: 'user', content: '' }] }, 'messages.0.content', 'messages.0.content should not be empty'],
      [{ messages: [{ role: 'user' }] }, 'messages.0.content', 'messages.0.content must be a string'],
      [{ messages: [{ role: 'user', content: 'a', name: 'x' }] }, 'messages.0.name', 'property messages.0.name should not exist'],
      [{ items: [] }, 'items', 'items must contain at least 1 elements'],
      [{ items: 'a' }, 'items', 'items must be an array'],
      [{ items: [{ prompt: 'a' }, {}] }, 'items.1', 'provide exactly one of prompt or messages'],
      [{ items: [{ prompt: 'a', messages: [{ role: 'user', content: 'b' }] }] }, 'items.0', 'provide exactly one of prompt or messages'],
      [{ items: [{ items: [{ prompt: 'a' }] }] }, 'items.0.items', 'property items.0.items should not exist'],
      [{ items: [{ messages: [{ role: 'user', content: 3 }] }] }, 'items.0.messages.0.content', 'items.0.messages.0.content must be a string'],
    ])('%j -> 400 (%s)', async (body, field, message) => {
      const error = expectError(await postJson(app, '/v1/moderate', body), 400, 'VALIDATION_FAILED', field);
      expect(error.message).toBe(message);
    });

    it('bounds the length of a conversation', async () => {
      const messages = Array.from({ length: 65 }, () => ({ role: 'user', content: 'a' }));
      expectError(await postJson(app, '/v1/moderate', { messages }), 400, 'VALIDATION_FAILED', 'messages');
    });
  });

  describe('POST /v1/moderations validation', () => {
    it.each([[{}], [{ input: '' }], [{ input: [] }], [{ input: ['a', ''] }], [{ input: ['a', 3] }], [{ input: 3 }]])('%j -> 400 naming input', async (body) => {
      const error = expectError(await postJson(app, '/v1/moderations', body), 400, 'VALIDATION_FAILED', 'input');
      expect(error.message).toMatch(/input must be a non-empty string or a non-empty array of non-empty strings and \{"type": "text", "text": "..."\} parts$/);
    });

    it('rejects a model that is not a string', async () => {
      expectError(await postJson(app, '/v1/moderations', { model: 1, input: 'a' }), 400, 'VALIDATION_FAILED', 'model');
    });

    it('rejects fields OpenAI does not define', async () => {
      expectError(await postJson(app, '/v1/moderations', { input: 'a', user: 'x' }), 400, 'VALIDATION_FAILED', 'user');
    });
  });

  describe('unknown routes', () => {
    it.each([
      ['GET', '/nowhere'],
      ['GET', '/predict'],
      ['DELETE', '/v1/moderate'],
      ['POST', '/v1/moderations/extra'],
    ] as const)('%s %s -> 404 JSON', async (method, url) => {
      const response = await app.inject({ method, url: `${url}?q=private` });
      const error = expectError(response, 404, 'NOT_FOUND');
      expect(error.message).toBe(`no route for ${method} ${url}`);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
    });
  });

  it('echoes an acceptable X-Request-Id and replaces an unacceptable one', async () => {
    const kept = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'abc-123' } });
    expect(kept.headers['x-request-id']).toBe('abc-123');
    const replaced = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id\nwith newline' } });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
