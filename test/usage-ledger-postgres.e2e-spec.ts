import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Client } from 'pg';
import { METRICS } from '../src/metrics/metric-names';
import { UsageLedger } from '../src/usage/usage-ledger';
import { describeWithDatabaseServers, PostgresServer } from './support/database-servers';
import { sumOf } from './support/exposition';
import { createCacheDir, postJson, registrySamples, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(180_000);

const settings = (databaseUrl: string) => ({ databaseUrl, sqlitePath: ':memory:', poolSize: 4, connectTimeoutMs: 1000, statementTimeoutMs: 1000 });
const DAY = { from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z') };
const at = (iso: string) => new Date(iso);
const entry = { tenant: 'chat', endpoint: '/predict', items: 1, promptTokens: 100, characters: 20, flagged: 0 };

/**
 * The usage ledger on a real PostgreSQL server (a throwaway cluster the suite starts): the same rows and
 * sums as on SQLite through the same Kysely queries, migrations recorded once, and the service's promise
 * while the server is gone: 503 USAGE_LEDGER_UNAVAILABLE, counted, readiness saying why, and service again
 * once the server is back, with no restart.
 */
describeWithDatabaseServers('usage ledger on PostgreSQL (e2e)', () => {
  let postgres: PostgresServer;

  beforeAll(async () => {
    postgres = await PostgresServer.start();
  });
  afterAll(async () => {
    await postgres?.remove();
  });

  it('adds, sums and filters like the SQLite ledger, and migrates once however often it is opened', async () => {
    const url = await postgres.createDatabase('ledger_queries');
    const ledger = await UsageLedger.open(settings(url));
    try {
      expect(ledger.backend).toBe('postgres');
      await ledger.record({ ...entry, at: at('2026-11-27T10:15:00Z') });
      await ledger.record({ ...entry, at: at('2026-11-27T10:59:59Z'), items: 3, promptTokens: 50, characters: 5, flagged: 2 });
      await ledger.record({ ...entry, at: at('2026-11-27T11:00:00Z') });
      await ledger.record({ ...entry, at: at('2026-11-27T10:15:00Z'), tenant: 'shop' });
      expect(await ledger.query({ ...DAY, granularity: 'hour', tenant: 'chat' })).toEqual([
        { tenant: 'chat', period: '2026-11-27T10:00:00Z', endpoint: '/predict', requests: 2, items: 4, promptTokens: 150, characters: 25, flagged: 2 },
        { tenant: 'chat', period: '2026-11-27T11:00:00Z', endpoint: '/predict', requests: 1, items: 1, promptTokens: 100, characters: 20, flagged: 0 },
      ]);
      expect((await ledger.query({ ...DAY, granularity: 'day' })).map((row) => [row.tenant, row.period, row.requests])).toEqual([
        ['chat', '2026-11-27T00:00:00Z', 3],
        ['shop', '2026-11-27T00:00:00Z', 1],
      ]);
    } finally {
      await ledger.close();
    }
    const reopened = await UsageLedger.open(settings(url));
    await reopened.close();
    const client = new Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name');
    await client.end();
    expect(rows.map((row) => row.name)).toEqual(['0001-usage']);
  });

  describe('the service while PostgreSQL goes away and comes back', () => {
    let app: NestFastifyApplication;
    let cacheDir: string;

    beforeAll(async () => {
      cacheDir = createCacheDir();
      const url = await postgres.createDatabase('ledger_service');
      app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_DATABASE_URL: url, QWEN3GUARD_DATABASE_CONNECT_TIMEOUT_MS: '5000' } });
      await waitUntilReady(app);
    });
    afterAll(async () => {
      await postgres.resume().catch(() => undefined);
      await app?.close();
      removeCacheDir(cacheDir);
    });

    const predict = () => postJson(app, '/predict', { text: 'hello there' });
    const ready = async () => (await app.inject({ method: 'GET', url: '/health/ready' })).json().info.usage_ledger as Record<string, string>;
    const metered = async () =>
      ((await app.inject({ method: 'GET', url: '/v1/usage' })).json().rows as Array<{ requests: number }>).reduce((total, row) => total + row.requests, 0);

    it('refuses with coded 503s, counts them, says why on readiness, and serves again by itself', async () => {
      expect((await predict()).statusCode).toBe(200);
      expect(await metered()).toBe(1);
      expect(await ready()).toEqual({ status: 'up', backend: 'postgres', state: 'reachable' });

      await postgres.stop();
      for (let attempt = 0; attempt < 3; attempt++) {
        const refused = await predict();
        expect(refused.statusCode).toBe(503);
        expect(refused.json().code).toBe('USAGE_LEDGER_UNAVAILABLE');
      }
      expect(sumOf(await registrySamples(app), METRICS.usageLedgerErrors.name, {})).toBe(3);
      expect(await ready()).toMatchObject({ status: 'up', backend: 'postgres', state: 'unreachable', error: expect.any(String) });
      expect((await app.inject({ method: 'GET', url: '/v1/usage' })).statusCode).toBe(503);

      await postgres.resume();
      expect((await predict()).statusCode).toBe(200);
      expect(await metered()).toBe(2);
      expect(await ready()).toEqual({ status: 'up', backend: 'postgres', state: 'reachable' });
    });
  });
});
