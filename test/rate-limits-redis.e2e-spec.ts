import { NestFastifyApplication } from '@nestjs/platform-fastify';
import Redis from 'ioredis';
import { METRICS } from '../src/metrics/metric-names';
import { Tenant } from '../src/tenant/tenant';
import { TenantRateLimiter } from '../src/tenant/tenant-rate-limiter';
import { describeWithDatabaseServers, RedisServer } from './support/database-servers';
import { sumOf } from './support/exposition';
import { createCacheDir, registrySamples, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';
import { bearer, testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(120_000);

const RATE = { requestsPerSecond: 5, burst: 5 };
const tenant = (id: string): Tenant => ({
  id,
  name: id,
  enabled: true,
  admin: false,
  metricLabel: id,
  policy: { flagged: [], blocked: [] } as unknown as Tenant['policy'],
  rateLimit: RATE,
});

/** Requests one limiter lets through out of `count` taken at once. */
async function allowed(limiter: TenantRateLimiter, who: Tenant, count: number): Promise<number> {
  const answers = await Promise.all(Array.from({ length: count }, () => limiter.take(who)));
  return answers.filter((retryAfter) => retryAfter === undefined).length;
}

/**
 * Rate limits on a real redis-server (a throwaway one the suite starts): two limiters on one Redis stand for
 * two replicas and share one allowance; with Redis stopped each limits on its own, never throws, and counts
 * the fallback; once Redis is back the shared allowance holds again. The service itself answers 200 (never
 * a 5xx) with Redis down, and exports the fallback count.
 */
describeWithDatabaseServers('tenant rate limits on Redis (e2e)', () => {
  let redis: RedisServer;
  const clients: Redis[] = [];
  const connect = async () => {
    const client = new Redis(redis.url, { enableOfflineQueue: false, commandTimeout: 250, maxRetriesPerRequest: 0, retryStrategy: () => 50 });
    client.on('error', () => undefined);
    clients.push(client);
    await new Promise((resolve) => client.once('ready', resolve));
    return client;
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await redis?.remove();
  });

  it('shares one allowance between replicas, falls back to each replica its own while Redis is down, and shares again after', async () => {
    const fallbacks = [0, 0];
    const who = tenant('shared');
    const replicas = [await connect(), await connect()].map(
      (client, index) => new TenantRateLimiter([who], { redis: client, onFallback: () => fallbacks[index]++ }),
    );

    // Together within one second: requestsPerSecond + burst for the fleet, not for each replica.
    const shared = (await allowed(replicas[0], who, 8)) + (await allowed(replicas[1], who, 8));
    expect(shared).toBe(RATE.requestsPerSecond + RATE.burst);
    expect(await replicas[1].take(who)).toBeGreaterThanOrEqual(1);
    expect(fallbacks).toEqual([0, 0]);

    await redis.stop();
    const alone = (await allowed(replicas[0], who, 12)) + (await allowed(replicas[1], who, 12));
    expect(alone).toBe(2 * (RATE.requestsPerSecond + RATE.burst));
    expect(fallbacks).toEqual([12, 12]);

    await redis.resume();
    await Promise.all(clients.filter((client) => client.status !== 'ready').map((client) => new Promise((resolve) => client.once('ready', resolve))));
    const again = tenant('again');
    const afterwards = [await connect(), await connect()].map((client) => new TenantRateLimiter([again], { redis: client }));
    expect((await allowed(afterwards[0], again, 8)) + (await allowed(afterwards[1], again, 8))).toBe(RATE.requestsPerSecond + RATE.burst);
  });

  describe('the service with Redis unreachable', () => {
    let app: NestFastifyApplication;
    let cacheDir: string;
    const limited = testTenant('limited', { rateLimit: { requestsPerSecond: 1000, burst: 10 } });

    beforeAll(async () => {
      cacheDir = createCacheDir();
      app = await startTestApp({
        env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_TENANTS_FILE: writeTenantsFile(cacheDir, [limited]), QWEN3GUARD_REDIS_URL: redis.url },
      });
      await waitUntilReady(app);
    });
    afterAll(async () => {
      await redis.resume().catch(() => undefined);
      await app?.close();
      removeCacheDir(cacheDir);
    });

    const usage = () => app.inject({ method: 'GET', url: '/v1/usage', headers: bearer(limited) });
    const fallbacks = async () => sumOf(await registrySamples(app), METRICS.rateLimitFallbacks.name, {});

    it('serves requests on per-replica limits, counts each fallback, and shares again once Redis is back', async () => {
      expect((await usage()).statusCode).toBe(200);
      expect(await fallbacks()).toBe(0);
      await redis.stop();
      for (let n = 0; n < 3; n++) expect((await usage()).statusCode).toBe(200);
      expect(await fallbacks()).toBe(3);
      await redis.resume();
      // ioredis reconnects on its own (backing off); then no more fallbacks.
      const deadline = Date.now() + 20_000;
      let before = await fallbacks();
      while (Date.now() < deadline) {
        expect((await usage()).statusCode).toBe(200);
        const now = await fallbacks();
        if (now === before) break;
        before = now;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect((await usage()).statusCode).toBe(200);
      expect(await fallbacks()).toBe(before);
    });
  });
});
