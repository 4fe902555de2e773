import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import { NestFastifyApplication } from '@nestjs/platform-fastify';

/** The page's files. `npm run build` copies them next to the compiled code, so this holds in src/ and dist/ alike. */
export const PLAYGROUND_DIR = join(__dirname, 'public');

/** The page loads nothing but its own files and talks to nothing but this service. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the playground at `/` (PLAYGROUND_ENABLED) from static files, with @fastify/static registered on
 * Fastify itself (Nest's useStaticAssets types still describe an older version of the plugin's options).
 */
export function servePlayground(app: NestFastifyApplication): void {
  void app
    .getHttpAdapter()
    .getInstance()
    .register(fastifyStatic, {
      root: PLAYGROUND_DIR,
      prefix: '/',
      // A route per file instead of a catch-all: every other path stays the API's JSON 404.
      wildcard: false,
      index: ['index.html'],
      // Swagger UI registers @fastify/static as well; only one registration may decorate the reply.
      decorateReply: false,
      setHeaders: (reply) => void reply.header('Content-Security-Policy', CONTENT_SECURITY_POLICY),
    });
}
