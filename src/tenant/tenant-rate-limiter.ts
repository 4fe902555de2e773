import type Redis from 'ioredis';
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimit, Tenant } from './tenant';

export interface TenantRateLimiterOptions {
  /** Limits shared by every replica through this Redis (or Valkey); undefined: this process's memory only. */
  redis?: Redis;
  /** Called for each request limited in memory because Redis did not answer (the fallback metric). */
  onFallback?: () => void;
}

/** One tenant's limits: across the fleet when Redis is configured, and this replica's own. */
interface TenantLimiters {
  shared?: BurstyRateLimiter;
  local: BurstyRateLimiter;
}

/**
 * Per-tenant request rate limits. A tenant gets `requestsPerSecond` in every one-second window, and beyond
 * it up to `burst` more requests, which come back over burst / requestsPerSecond seconds: short spikes
 * pass, a sustained excess is refused. With Redis the windows are counted there, so the limit holds for the
 * whole fleet; while Redis does not answer, each replica limits on its own (the tenant may then get up to
 * its limit per replica) rather than refuse or fail requests, and the fallback is counted.
 */
export class TenantRateLimiter {
  private readonly limiters = new Map<string, TenantLimiters>();

  constructor(
    tenants: readonly Tenant[],
    private readonly options: TenantRateLimiterOptions = {},
  ) {
    for (const tenant of tenants) {
      if (!tenant.rateLimit) continue;
      const { redis } = options;
      this.limiters.set(tenant.id, {
        shared:
          redis &&
          limiterFor(tenant.id, tenant.rateLimit, (settings) => new RateLimiterRedis({ ...settings, storeClient: redis, rejectIfRedisNotReady: true })),
        local: limiterFor(tenant.id, tenant.rateLimit, (settings) => new RateLimiterMemory(settings)),
      });
    }
  }

  /**
   * Takes one request from the tenant's allowance: undefined when it may go ahead, else the seconds to
   * wait before retrying (at least 1, for Retry-After).
   */
  async take(tenant: Tenant): Promise<number | undefined> {
    const limiters = this.limiters.get(tenant.id);
    if (!limiters) return undefined;
    if (limiters.shared) {
      try {
        return await consume(limiters.shared, tenant.id);
      } catch {
        // Redis is down, slow or refused the command: this replica's own limit, never a 5xx.
        this.options.onFallback?.();
      }
    }
    return consume(limiters.local, tenant.id);
  }
}

/** Undefined when allowed, the Retry-After seconds when refused; throws when the limiter's store failed. */
async function consume(limiter: BurstyRateLimiter, key: string): Promise<number | undefined> {
  try {
    await limiter.consume(key);
    return undefined;
  } catch (rejection) {
    if (!(rejection instanceof RateLimiterRes)) throw rejection;
    return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  }
}

interface WindowSettings {
  keyPrefix: string;
  points: number;
  duration: number;
}

function limiterFor(
  id: string,
  { requestsPerSecond, burst }: RateLimit,
  create: (settings: WindowSettings) => RateLimiterMemory | RateLimiterRedis,
): BurstyRateLimiter {
  return new BurstyRateLimiter(
    create({ keyPrefix: `qwen3guard:rate:${id}`, points: requestsPerSecond, duration: 1 }),
    create({ keyPrefix: `qwen3guard:burst:${id}`, points: burst, duration: Math.max(1, Math.ceil(burst / requestsPerSecond)) }),
  );
}
