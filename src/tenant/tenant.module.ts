import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';
import { ServiceMetrics } from '../metrics/service-metrics';
import { TenantAuthenticator } from './tenant-authenticator';
import { TenantDirectory } from './tenant-directory';
import { TenantRateLimiter } from './tenant-rate-limiter';
import { readTenantsFile } from './tenants-file';

/** The Redis client of the shared rate limits (undefined without QWEN3GUARD_REDIS_URL). */
const RATE_LIMIT_REDIS = Symbol('RATE_LIMIT_REDIS');

/**
 * Tenants: the directory read from QWEN3GUARD_TENANTS_FILE at start-up (a bad file stops the service) and the
 * rate limiter (limits shared through Redis when QWEN3GUARD_REDIS_URL is set), and the authenticator that applies
 * both. The guard that uses it is part of the request pipeline (src/http), and the request's tenant travels in its request context.
 */
@Module({
  providers: [
    {
      provide: TenantDirectory,
      inject: [AppConfig],
      useFactory: (config: AppConfig) =>
        config.QWEN3GUARD_TENANTS_FILE === undefined
          ? TenantDirectory.empty()
          : new TenantDirectory(readTenantsFile(config.QWEN3GUARD_TENANTS_FILE), config.MAX_TENANT_LABELS),
    },
    { provide: RATE_LIMIT_REDIS, inject: [AppConfig], useFactory: rateLimitRedis },
    {
      provide: TenantRateLimiter,
      inject: [TenantDirectory, RATE_LIMIT_REDIS, { token: ServiceMetrics, optional: true }],
      useFactory: (directory: TenantDirectory, redis: Redis | undefined, metrics?: ServiceMetrics) =>
        new TenantRateLimiter([...directory.tenants, directory.anonymous], { redis, onFallback: () => metrics?.rateLimitFallbacks.inc() }),
    },
    TenantAuthenticator,
  ],
  exports: [TenantDirectory, TenantRateLimiter, TenantAuthenticator],
})
export class TenantModule implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMIT_REDIS) private readonly redis: Redis | undefined) {}

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}

/**
 * The Redis connection of the shared rate limits, when QWEN3GUARD_REDIS_URL is set. Every wait is bounded:
 * no offline queue (a command fails at once while disconnected), a per-command timeout; ioredis keeps
 * reconnecting in the background, and the limiter falls back to memory meanwhile.
 */
function rateLimitRedis(config: AppConfig): Redis | undefined {
  if (config.QWEN3GUARD_REDIS_URL === undefined) return undefined;
  const logger = new Logger('RateLimitRedis');
  const redis = new Redis(config.QWEN3GUARD_REDIS_URL, {
    enableOfflineQueue: false,
    commandTimeout: config.QWEN3GUARD_REDIS_TIMEOUT_MS,
    connectTimeout: config.QWEN3GUARD_REDIS_TIMEOUT_MS * 4,
    maxRetriesPerRequest: 0,
  });
  // One line per state change, not per failed reconnect attempt.
  redis.on('ready', () => logger.log('connected: rate limits are shared across replicas'));
  redis.on('end', () => logger.warn('disconnected'));
  let lastError = '';
  redis.on('error', (error: Error) => {
    if (error.message !== lastError) logger.warn(`unreachable, each replica limits on its own: ${error.message}`);
    lastError = error.message;
  });
  redis.on('ready', () => (lastError = ''));
  return redis;
}
