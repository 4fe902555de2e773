/**
 * What the shared state costs a request: the usage ledger's write (SQLite vs PostgreSQL; latency p50/p99 of
 * one awaited write, and the most writes per second with WRITERS concurrent writers) and the rate limiter's
 * check (Redis vs memory). Real servers: a throwaway PostgreSQL cluster (fsync on, as in production) and
 * redis-server from test/support, on this machine. Numbers go into docs/performance.md.
 *   npx tsx bench/shared-state.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { Tenant } from '../src/tenant/tenant';
import { TenantRateLimiter } from '../src/tenant/tenant-rate-limiter';
import { UsageLedger } from '../src/usage/usage-ledger';
import { PostgresServer, RedisServer } from '../test/support/database-servers';

const SEQUENTIAL = 3000;
const WRITERS = 16;
const THROUGHPUT_MS = 5000;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function latencies(count: number, action: (n: number) => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let n = 0; n < 200; n++) await action(n);
  const samples: number[] = [];
  for (let n = 0; n < count; n++) {
    const start = performance.now();
    await action(n);
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) };
}

async function writesPerSecond(ledger: UsageLedger): Promise<number> {
  let writes = 0;
  const deadline = performance.now() + THROUGHPUT_MS;
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      while (performance.now() < deadline) {
        await ledger.record(entry(writer));
        writes++;
      }
    }),
  );
  return writes / (THROUGHPUT_MS / 1000);
}

const entry = (n: number) => ({ tenant: `tenant-${n % 3}`, endpoint: '/predict', at: new Date(), items: 1, promptTokens: 120, characters: 40, flagged: 0 });
const ms = (value: number) => value.toFixed(3);

async function benchLedger(name: string, ledger: UsageLedger): Promise<void> {
  const { p50, p99 } = await latencies(SEQUENTIAL, (n) => ledger.record(entry(n)));
  const rate = await writesPerSecond(ledger);
  console.log(`ledger ${name}: write p50 ${ms(p50)} ms, p99 ${ms(p99)} ms; ${Math.round(rate)} writes/s with ${WRITERS} concurrent writers`);
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'bench-shared-state-'));
  const postgres = await PostgresServer.start({ fsync: true });
  const redisServer = await RedisServer.start();
  try {
    const sqlite = await UsageLedger.openSqlite(join(folder, 'usage.sqlite'));
    await benchLedger('SQLite (node:sqlite, WAL, synchronous=NORMAL)', sqlite);
    await sqlite.close();
    const pg = await UsageLedger.open({
      databaseUrl: await postgres.createDatabase('bench'),
      sqlitePath: ':memory:',
      poolSize: WRITERS,
      connectTimeoutMs: 2000,
      statementTimeoutMs: 2000,
    });
    await benchLedger('PostgreSQL (local, fsync on, synchronous_commit on)', pg);
    await pg.close();

    const tenant: Tenant = {
      id: 'bench',
      name: 'bench',
      enabled: true,
      admin: false,
      metricLabel: 'bench',
      policy: {} as Tenant['policy'],
      rateLimit: { requestsPerSecond: 1_000_000, burst: 1 },
    };
    const redis = new Redis(redisServer.url, { enableOfflineQueue: false, commandTimeout: 250, maxRetriesPerRequest: 0 });
    await new Promise((resolve) => redis.once('ready', resolve));
    const inMemory = new TenantRateLimiter([tenant]);
    const memory = await latencies(SEQUENTIAL, () => inMemory.take(tenant));
    const shared = new TenantRateLimiter([tenant], { redis });
    const onRedis = await latencies(SEQUENTIAL, () => shared.take(tenant));
    console.log(`rate limit check: memory p50 ${ms(memory.p50)} ms, p99 ${ms(memory.p99)} ms; Redis p50 ${ms(onRedis.p50)} ms, p99 ${ms(onRedis.p99)} ms`);
    redis.disconnect();
  } finally {
    await postgres.remove();
    await redisServer.remove();
    rmSync(folder, { recursive: true, force: true });
  }
}

void main();
