import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimit, Tenant } from './tenant';

/**
 * Per-tenant request rate limits, in this process's memory (each replica limits on its own). A tenant
 * gets `requestsPerSecond` in every one-second window, and beyond it up to `burst` more requests, which
 * come back over burst / requestsPerSecond seconds: short spikes pass, a sustained excess is refused.
 */
export class TenantRateLimiter {
  private readonly limiters = new Map<string, BurstyRateLimiter>();

  constructor(tenants: readonly Tenant[]) {
    for (const tenant of tenants) {
      if (tenant.rateLimit) this.limiters.set(tenant.id, limiterFor(tenant.id, tenant.rateLimit));
    }
  }

  /**
   * Takes one request from the tenant's allowance: undefined when it may go ahead, else the seconds to
   * wait before retrying (at least 1, for Retry-After).
   */
  async take(tenant: Tenant): Promise<number | undefined> {
    const limiter = this.limiters.get(tenant.id);
    if (!limiter) return undefined;
    try {
      await limiter.consume(tenant.id);
      return undefined;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
    }
  }
}

function limiterFor(id: string, { requestsPerSecond, burst }: RateLimit): BurstyRateLimiter {
  return new BurstyRateLimiter(
    new RateLimiterMemory({ keyPrefix: `rate:${id}`, points: requestsPerSecond, duration: 1 }),
    new RateLimiterMemory({ keyPrefix: `burst:${id}`, points: burst, duration: Math.max(1, Math.ceil(burst / requestsPerSecond)) }),
  );
}
