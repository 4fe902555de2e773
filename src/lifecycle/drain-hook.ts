import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { toErrorReply } from '../common/error-reply.mapper';
import { ShutdownState } from './shutdown-state';

/**
 * Routes still answered while draining: the probes (readiness must be able to say 503, liveness must not
 * make the orchestrator restart a pod that is shutting down on purpose) and `/metrics` on the API port, so
 * the last scrape still sees the drain.
 */
function servesWhileDraining(request: FastifyRequest): boolean {
  const route = request.routeOptions.url;
  return route !== undefined && (route.startsWith('/health/') || route === '/metrics');
}

/**
 * Counts the API requests being answered and, once draining began, refuses new ones with 503
 * SHUTTING_DOWN in the service's error shape. The refusal closes the connection, so a keep-alive client
 * reconnects (to another replica) instead of reusing this one.
 */
export function registerDrainHook(fastify: FastifyInstance, state: ShutdownState): void {
  fastify.addHook('onRequest', (request, reply, done) => {
    if (state.draining && !servesWhileDraining(request)) {
      const refusal = toErrorReply(new ApiException(ErrorCode.ShuttingDown, 'the service is shutting down; retry on another instance'), request);
      void reply.code(refusal.status).header('connection', 'close').type('application/json; charset=utf-8').send(refusal.body);
      return;
    }
    state.requestStarted();
    // `close` fires once the response is sent and also when the client went away first.
    reply.raw.once('close', () => state.requestFinished());
    done();
  });
}
