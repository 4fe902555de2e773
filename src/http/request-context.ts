import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { CLS_ID, ClsService, ClsStore, ContextClsStoreMap } from 'nestjs-cls';
import { SAFETY_LEVELS, SafetyLevel } from '../inference';
import type { Tenant } from '../tenant/tenant';

/**
 * What the service knows about one request, in its nestjs-cls store: the request id (the store's id, from
 * Fastify's), the tenant the guard authenticated, and the verdict the request was answered with.
 */
export interface RequestStore extends ClsStore {
  tenant?: Tenant;
  verdict?: SafetyLevel;
}

/**
 * The one per-request context (nestjs-cls, AsyncLocalStorage), so that singletons read the request's state
 * without request-scoped providers. Fastify's onResponse hooks run outside that async context and read the
 * same store with {@link requestStoreOf}.
 */
@Injectable()
export class RequestContext {
  constructor(private readonly cls: ClsService<RequestStore>) {}

  get requestId(): string {
    return this.cls.getId();
  }

  /** The authenticated tenant; only guarded routes have one, so asking elsewhere is a programming error. */
  get tenant(): Tenant {
    const tenant = this.cls.get('tenant');
    if (!tenant) throw new Error('no tenant in the request context: the route is not guarded by TenantGuard');
    return tenant;
  }

  set tenant(tenant: Tenant) {
    this.cls.set('tenant', tenant);
  }

  /** Runs work in a context of its own, for calls that are no HTTP request (a stream socket's messages). */
  run<T>(requestId: string, tenant: Tenant, work: () => T): T {
    return this.cls.run(() => {
      this.cls.set(CLS_ID, requestId);
      this.cls.set('tenant', tenant);
      return work();
    });
  }

  /** Records the levels a response reports; the request's verdict is the most severe of them. */
  recordVerdict(levels: readonly SafetyLevel[]): void {
    const verdict = mostSevereLevel(levels);
    if (verdict) this.cls.set('verdict', verdict);
  }
}

/**
 * The request's store, where the async context is gone (Fastify's onResponse hooks); nestjs-cls keeps it by
 * raw request. Undefined for a request Fastify answered before the context was opened (no route matched).
 */
export function requestStoreOf(request: FastifyRequest): RequestStore | undefined {
  return ContextClsStoreMap.getByRaw(request.raw);
}

/** The most severe of some levels: a batch is as severe as its worst item for anyone searching the logs. */
export function mostSevereLevel(levels: readonly SafetyLevel[]): SafetyLevel | undefined {
  let worst = -1;
  for (const level of levels) worst = Math.max(worst, SAFETY_LEVELS.indexOf(level));
  return worst < 0 ? undefined : SAFETY_LEVELS[worst];
}
