import type { FastifyInstance } from 'fastify';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { RequestStatus, UNMATCHED_ENDPOINT } from '../metrics/metric-names';
import { ANONYMOUS_TENANT_ID } from '../tenant/tenant';
import { requestStoreOf } from './request-context';

/**
 * HTTP request metrics, recorded by Fastify hooks on the API server, so that every request Fastify answers
 * is counted, including the ones rejected before any Nest guard, pipe or interceptor runs (a body that is
 * not JSON, too large or not application/json, an unknown route, and later 401/403/429 from guards).
 *
 * What is counted: every request on the API port, probes (`/health/live`, `/health/ready`) included under
 * their own route templates, and `/metrics` itself when it is served on the API port (METRICS_MODE=same-port).
 * The SLO rules leave `/health.*|/metrics` out (NON_SLO_ENDPOINT_REGEX); the tutorial's
 * PredictionErrorRateHigh counts every request. Scrapes of the separate metrics listener are not API
 * requests and are not counted. A client that disconnects before its response is sent is not counted (no
 * response, no status), but leaves the in-flight gauge all the same.
 */

/** Methods recorded under their own name; anything else a client may send is recorded as `OTHER`. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function methodLabel(method: string): string {
  return KNOWN_METHODS.has(method) ? method : 'OTHER';
}

/** The matched route template (`/predict`, `/docs/*`), never the raw URL; no route matched: `unmatched`. */
export function endpointLabel(routeTemplate: string | undefined): string {
  return routeTemplate ?? UNMATCHED_ENDPOINT;
}

/** `error` for every HTTP status >= 400, `success` otherwise. */
export function statusLabel(statusCode: number): RequestStatus {
  return statusCode >= 400 ? 'error' : 'success';
}

export interface RequestLabels {
  method: string;
  endpoint: string;
  status: RequestStatus;
  code: string;
  tenant: string;
}

/** `tenant` is the authenticated tenant's bounded label (see TenantDirectory), `anonymous` when none was identified. */
export function requestLabels(method: string, routeTemplate: string | undefined, statusCode: number, tenant: string = ANONYMOUS_TENANT_ID): RequestLabels {
  return { method: methodLabel(method), endpoint: endpointLabel(routeTemplate), status: statusLabel(statusCode), code: String(statusCode), tenant };
}

export interface RequestInstruments {
  requestCount: Counter<'method' | 'endpoint' | 'status' | 'code' | 'tenant'>;
  requestDuration: Histogram<'endpoint'>;
  inflightRequests: Gauge;
}

interface Children {
  count: Counter.Internal;
  duration: Histogram.Internal<'endpoint'>;
}

/**
 * Adds the hooks to a Fastify instance (before it is ready; they apply to every route and to the 404
 * handler). `qwen3guard_request_count_total` and `qwen3guard_request_duration_seconds` (Fastify's own
 * `reply.elapsedTime`, from the start of the request to the response sent) in `onResponse`;
 * `qwen3guard_inflight_requests` from `onRequest` to the response's `close` (which also fires when the
 * client went away).
 */
export function registerRequestMetrics(fastify: FastifyInstance, instruments: RequestInstruments): void {
  const { requestCount, requestDuration, inflightRequests } = instruments;
  // The label children per (method, route, status code, tenant): bounded combinations, looked up once each.
  const children = new Map<string, Children>();
  const childrenFor = (method: string, route: string | undefined, statusCode: number, tenant: string | undefined): Children => {
    const key = `${method} ${statusCode} ${tenant ?? ''} ${route ?? ''}`;
    let found = children.get(key);
    if (!found) {
      const labels = requestLabels(method, route, statusCode, tenant);
      found = { count: requestCount.labels(labels), duration: requestDuration.labels({ endpoint: labels.endpoint }) };
      children.set(key, found);
    }
    return found;
  };
  const leave = () => inflightRequests.dec();

  fastify.addHook('onRequest', (_request, reply, done) => {
    inflightRequests.inc();
    reply.raw.once('close', leave);
    done();
  });

  fastify.addHook('onResponse', (request, reply, done) => {
    const child = childrenFor(request.method, request.routeOptions.url, reply.statusCode, requestStoreOf(request)?.tenant?.metricLabel);
    child.count.inc();
    child.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}
