import { Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyRequest } from 'fastify';
import { ClsModule } from 'nestjs-cls';
import { ErrorResponseFilter } from '../common/error-response.filter';
import { APP_LOGGER } from '../common/logging/logging.module';
import { createValidationPipe } from '../common/validation/create-validation-pipe';
import { AppConfig } from '../config/app-config';
import { registerDrainHook } from '../lifecycle/drain-hook';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { ServiceMetrics } from '../metrics/service-metrics';
import { TenantModule } from '../tenant/tenant.module';
import { registerAccessLog } from './access-log';
import { RequestContextModule } from './request-context.module';
import { REQUEST_ID_HEADER } from './request-id';
import { registerRequestMetrics } from './request-metrics';
import { applySecurityHeaders } from './security-headers';
import { TenantGuard } from './tenant.guard';

/*
 * The request pipeline, in the order a request meets it.
 *
 * Fastify, for every request, routed or not (installFastifyHooks):
 *   1. request id: Fastify's genReqId takes an acceptable X-Request-Id or makes one (request-id.ts, set on
 *      the adapter in app-factory.ts); the response carries it back;
 *   2. request metrics: in-flight gauge from onRequest; count and duration in onResponse (request-metrics.ts);
 *   3. access log: one line in onResponse (access-log.ts);
 *   4. drain: while shutting down, 503 SHUTTING_DOWN before anything else runs (lifecycle/drain-hook.ts);
 *   5. security headers and CORS (security-headers.ts); JSON the only body format.
 * Nest, for routed requests (HttpPipelineModule):
 *   6. request context: nestjs-cls's middleware opens the store (request id, then tenant and verdict);
 *   7. guard: TenantGuard authenticates and rate-limits every route not marked @PublicRoute;
 *   8. pipe: the validation pipe turns bodies and queries into DTOs or 400 VALIDATION_FAILED;
 *   9. handler: the feature's controller; the moderation service records the verdict in the context;
 *  10. filter: ErrorResponseFilter turns anything thrown into the one error shape.
 * Then Fastify's onResponse hooks (2, 3) read the tenant and verdict from the request context.
 */

/** The Nest half of the pipeline: the request context, guard, pipe and filter, registered through DI. */
@Module({
  imports: [
    ClsModule.forRoot({
      middleware: { mount: true, generateId: true, idGenerator: (request: FastifyRequest) => String(request.id) },
    }),
    RequestContextModule,
    TenantModule,
  ],
  providers: [
    { provide: APP_GUARD, useClass: TenantGuard },
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: ErrorResponseFilter },
  ],
})
export class HttpPipelineModule {}

/** The Fastify half of the pipeline, added to a created application before it initialises. */
export function installFastifyHooks(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  // First, so that every request is measured and logged, whatever the later hooks and handlers do with it.
  if (config.METRICS_MODE !== 'off') registerRequestMetrics(fastify, app.get(ServiceMetrics));
  registerAccessLog(fastify, app.get(APP_LOGGER));
  // Next, so that a request refused while shutting down is still measured, and nothing else runs for it.
  registerDrainHook(fastify, app.get(ShutdownState));
  // JSON is the only body format: Fastify's text/plain parser would hand validation a bare string.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRequest', async (request, reply) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
  });
  applySecurityHeaders(app, config);
}
