import { join } from 'node:path';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { METRICS } from '../src/metrics/metric-names';
import { LedgerFaults } from './support/ledger-faults';
import { sumOf } from './support/exposition';
import { createCacheDir, postJson, registrySamples, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(180_000);

/**
 * The ledger's disk turns read-only under a running service: requests are refused with 503
 * USAGE_LEDGER_UNAVAILABLE (never served unmetered), counted (the UsageLedgerFailing alert's series), and
 * served again once the disk is writable, without a restart; the rows written before the fault are kept.
 */
describe('usage ledger on a read-only disk (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;
  let faults: LedgerFaults;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    faults = new LedgerFaults();
    app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_USAGE_DB: join(cacheDir, 'ledger', 'usage.sqlite') } });
    await waitUntilReady(app);
  });

  afterAll(async () => {
    faults?.restore();
    await app?.close();
    removeCacheDir(cacheDir);
  });

  const predict = () => postJson(app, '/predict', { text: 'hello there' });
  const counter = async (name: string, labels: Record<string, string> = {}) => sumOf(await registrySamples(app), name, labels);
  const meteredRequests = async () => {
    const rows = (await app.inject({ method: 'GET', url: '/v1/usage' })).json().rows as Array<{ requests: number }>;
    return rows.reduce((total, row) => total + row.requests, 0);
  };

  it('refuses requests while the disk is read-only and serves them again once it is writable', async () => {
    expect((await predict()).statusCode).toBe(200);
    expect(await meteredRequests()).toBe(1);

    faults.makeReadOnly();
    const refused = await predict();
    expect(refused.statusCode).toBe(503);
    expect(refused.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'USAGE_LEDGER_UNAVAILABLE',
      message: 'the usage ledger cannot be written; the request was not served',
    });
    expect(await counter(METRICS.usageLedgerErrors.name)).toBe(1);
    expect(await counter(METRICS.requestCount.name, { endpoint: '/predict', code: '503' })).toBe(1);
    // Reading still works: the rows written before the fault are there, and the refused request is not.
    expect(await meteredRequests()).toBe(1);
    // The model is fine: readiness does not flip for a metering fault.
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(200);

    faults.makeWritable();
    expect((await predict()).statusCode).toBe(200);
    expect(await meteredRequests()).toBe(2);
    expect(await counter(METRICS.usageLedgerErrors.name)).toBe(1);
  });
});
