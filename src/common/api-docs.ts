import { createReadStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const DOCS_PATH = '/docs';
/** The version of the HTTP contract (the `/v1` routes), not of the package. */
const API_VERSION = '1';

const DESCRIPTION = [
  'Content moderation with Qwen3Guard-Gen: a verdict (safe, controversial, unsafe), the risk categories, and for',
  'replies whether they refuse. `POST /predict` is the original contract; `POST /v1/moderate` adds replies,',
  'conversations and batches; `POST /v1/moderations` answers OpenAI clients. Every error has the same JSON shape.',
].join(' ');

/** The swagger-ui-dist files the page loads, with their content types. */
const UI_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const UI_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Qwen3Guard-Gen-WEB API</title>
<link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
<script src="${DOCS_PATH}/swagger-ui-init.js"></script>
</body>
</html>
`;

const UI_INIT = `window.ui = SwaggerUIBundle({ url: '${DOCS_PATH}-json', dom_id: '#swagger-ui', deepLinking: true });\n`;

/**
 * The OpenAPI document at /docs-json and Swagger UI at /docs. Nest serves the UI's static files
 * through @fastify/static, which this project does not install, so the page and its few files are
 * served here from swagger-ui-dist.
 */
export function setupApiDocs(app: NestFastifyApplication): void {
  const config = new DocumentBuilder().setTitle('Qwen3Guard-Gen-WEB').setDescription(DESCRIPTION).setVersion(API_VERSION).build();
  SwaggerModule.setup(DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), { ui: false, raw: ['json'] });
  serveSwaggerUi(app);
}

function serveSwaggerUi(app: NestFastifyApplication): void {
  const fastify = app.getHttpAdapter().getInstance();
  const assetsDir = dirname(require.resolve('swagger-ui-dist/package.json'));
  fastify.get(DOCS_PATH, (_request, reply) => reply.type('text/html; charset=utf-8').send(UI_PAGE));
  fastify.get(`${DOCS_PATH}/swagger-ui-init.js`, (_request, reply) => reply.type('application/javascript; charset=utf-8').send(UI_INIT));
  for (const [file, type] of Object.entries(UI_ASSETS)) {
    fastify.get(`${DOCS_PATH}/${file}`, (_request, reply) => reply.type(type).send(createReadStream(join(assetsDir, file))));
  }
}
