import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { RISK_CATEGORIES } from '../src/inference';
import { engineThatFailsToLoad, startTestApp } from './support/test-app';

/** The docs need no model, so these suites use an engine that never loads. */
describe('API docs (e2e)', () => {
  describe('enabled (the default)', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startTestApp({ engine: engineThatFailsToLoad() });
    });

    afterAll(() => app.close());

    it('serves the OpenAPI document at /docs-json with every endpoint, tagged', async () => {
      const response = await app.inject({ method: 'GET', url: '/docs-json' });
      expect(response.statusCode).toBe(200);
      const document = response.json();
      expect(document.info.title).toBe('Qwen3Guard-Gen-WEB');
      expect(Object.keys(document.paths).sort()).toEqual([
        '/health/live',
        '/health/ready',
        '/predict',
        '/v1/moderate',
        '/v1/moderations',
        '/v1/stats',
        '/v1/streams',
        '/v1/streams/ws',
        '/v1/streams/{id}',
        '/v1/streams/{id}/chunks',
        '/v1/streams/{id}/close',
        '/v1/usage',
      ]);
      expect(document.paths['/v1/streams/ws'].get.responses).toHaveProperty('101');
      expect(document.paths['/predict'].post.tags).toEqual(['predict']);
      expect(document.paths['/v1/moderate'].post.tags).toEqual(['moderation']);
      expect(document.paths['/v1/moderations'].post.tags).toEqual(['openai-compatible']);
      expect(document.paths['/health/ready'].get.tags).toEqual(['health']);
      expect(document.paths['/v1/stats'].get.tags).toEqual(['stats']);
      expect(document.paths['/v1/usage'].get.tags).toEqual(['usage']);
    });

    it('documents the two ways to send an API key, and the auth and rate-limit errors', async () => {
      const { components, security, paths } = (await app.inject({ method: 'GET', url: '/docs-json' })).json();
      expect(components.securitySchemes).toMatchObject({
        bearer: { type: 'http', scheme: 'bearer' },
        'api-key': { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      });
      expect(security).toEqual([{ bearer: [] }, { 'api-key': [] }]);
      expect(Object.keys(paths['/v1/moderations'].post.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
      expect(components.schemas.DecisionDto.properties.action.enum).toEqual(['block', 'flag', 'allow']);
    });

    it('documents the request examples, the error shape and the category scores', async () => {
      const { components, paths } = (await app.inject({ method: 'GET', url: '/docs-json' })).json();
      expect(components.schemas.PredictRequestDto.properties.text.example).toBe('测试内容安全性');
      expect(paths['/predict'].post.responses['503'].content['application/json'].schema.$ref).toBe('#/components/schemas/ErrorResponseDto');
      expect(components.schemas.ErrorResponseDto.required).toEqual(expect.arrayContaining(['statusCode', 'error', 'code', 'message']));
      const scores = components.schemas.OpenAiModerationResultDto.properties.category_scores;
      expect(Object.keys(scores.properties)).toEqual([...RISK_CATEGORIES]);
      expect(scores.description).toContain('P(unsafe) + P(controversial)');
    });

    it('serves Swagger UI at /docs with its assets', async () => {
      const page = await app.inject({ method: 'GET', url: '/docs' });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.body).toContain('swagger-ui-bundle.js');
      for (const [url, type] of [
        ['/docs/swagger-ui-bundle.js', /javascript/],
        ['/docs/swagger-ui-init.js', /javascript/],
        ['/docs/swagger-ui.css', /text\/css/],
      ] as const) {
        const asset = await app.inject({ method: 'GET', url });
        expect(asset.statusCode).toBe(200);
        expect(asset.headers['content-type']).toMatch(type);
      }
    });

    it('answers an unknown file under /docs with the JSON 404', async () => {
      const response = await app.inject({ method: 'GET', url: '/docs/../package.json' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    });
  });

  describe('disabled with DOCS_ENABLED=false', () => {
    let app: NestFastifyApplication;

    beforeAll(async () => {
      app = await startTestApp({ engine: engineThatFailsToLoad(), env: { DOCS_ENABLED: 'false' } });
    });

    afterAll(() => app.close());

    it.each(['/docs', '/docs-json'])('%s -> 404', async (url) => {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'NOT_FOUND' });
    });
  });
});
