import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ANONYMOUS_TENANT_ID } from '../tenant/tenant';
import { requestStoreOf } from './request-context';

/**
 * One line per answered request, from a Fastify `onResponse` hook like the request metrics, so requests
 * rejected before Nest runs (bad JSON, 413, 415, unknown routes) are logged too. Built field by field:
 * no header, query string, body or text can reach it. `route` is the matched template, never the raw
 * URL (which a client fills with anything); `null` when no route matched. Tenant and verdict come from the
 * request context.
 */
export function registerAccessLog(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const { tenant, verdict } = requestStoreOf(request) ?? {};
    logger.info(
      {
        requestId: request.id,
        method: request.method,
        route: request.routeOptions.url ?? null,
        status: reply.statusCode,
        latencyMs: Math.round(reply.elapsedTime * 100) / 100,
        tenant: tenant?.id ?? ANONYMOUS_TENANT_ID,
        ...(verdict && { verdict }),
      },
      'request completed',
    );
    done();
  });
}
