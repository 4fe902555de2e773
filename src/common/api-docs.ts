import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = '/docs';
/** The version of the HTTP contract (the `/v1` routes), not of the package. */
const API_VERSION = '1';

const DESCRIPTION = [
  'Content moderation with Qwen3Guard-Gen: a verdict (safe, controversial, unsafe), the risk categories, and for',
  'replies whether they refuse. `POST /predict` is the original contract; `POST /v1/moderate` adds replies,',
  'conversations and batches; `POST /v1/moderations` answers OpenAI clients. Every error has the same JSON shape.',
  "Send your tenant's API key as `Authorization: Bearer <key>` or `X-API-Key: <key>` (probes under /health need none).",
].join(' ');

/**
 * The OpenAPI document at /docs-json and Swagger UI at /docs (its assets through @fastify/static). `extraPaths`
 * describe routes no controller declares (the stream WebSocket).
 */
export function setupApiDocs(app: NestFastifyApplication, extraPaths: OpenAPIObject['paths'] = {}): void {
  const config = new DocumentBuilder()
    .setTitle('Qwen3Guard-Gen-WEB')
    .setDescription(DESCRIPTION)
    .setVersion(API_VERSION)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: "The tenant's API key (what the OpenAI SDK sends)." }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: "The tenant's API key." }, 'api-key')
    // Either scheme authenticates (OpenAPI lists alternatives as separate requirements).
    .addSecurityRequirements('bearer')
    .addSecurityRequirements('api-key')
    .build();
  const createDocument = (): OpenAPIObject => {
    const document = SwaggerModule.createDocument(app, config);
    return { ...document, paths: { ...document.paths, ...extraPaths } };
  };
  SwaggerModule.setup(DOCS_PATH, app, createDocument, { raw: ['json'] });
}
