import type { IncomingMessage } from 'node:http';
import type { Tenant } from './tenant';

/**
 * The tenant a request was authenticated as, readable where Nest's request context is not: Fastify's
 * onResponse hooks (request metrics) and the access log see only the raw request. Inside Nest, code reads
 * the tenant from the request context (TenantContext); both are set together by the tenant guard.
 * A WeakMap, so nothing outlives its request.
 */
const tenantByRequest = new WeakMap<IncomingMessage, Tenant>();

export function attachTenant(request: IncomingMessage, tenant: Tenant): void {
  tenantByRequest.set(request, tenant);
}

/** The request's tenant; undefined before authentication or when it failed. */
export function tenantOf(request: IncomingMessage): Tenant | undefined {
  return tenantByRequest.get(request);
}
