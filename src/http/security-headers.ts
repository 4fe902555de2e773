import helmet from '@fastify/helmet';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppConfig } from '../config/app-config';

/**
 * Browser-facing protections on the API port: helmet's headers (no sniffing, no framing, same-origin
 * resource and opener policies, a Content-Security-Policy), and CORS only for the origins CORS_ORIGINS
 * names. With CORS_ORIGINS unset no CORS header is sent and browsers keep other sites from reading answers.
 *
 * The CSP is helmet's default without `upgrade-insecure-requests`: the service is often reached over plain
 * HTTP (loopback, inside a cluster), where that directive would send Swagger UI's own files to an HTTPS
 * port that does not exist. The playground's files set their own, stricter policy (playground-assets.ts).
 */
export function applySecurityHeaders(app: NestFastifyApplication, config: AppConfig): void {
  void app
    .getHttpAdapter()
    .getInstance()
    .register(helmet, {
      contentSecurityPolicy: { useDefaults: true, directives: { 'upgrade-insecure-requests': null } },
    });
  const origins = corsOrigins(config);
  if (origins.length > 0) app.enableCors({ origin: origins, methods: ['GET', 'POST'], maxAge: 600 });
}

export function corsOrigins(config: AppConfig): string[] {
  return (config.CORS_ORIGINS ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
}
