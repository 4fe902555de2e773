import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageEntry, UsageLedger } from './usage-ledger';

const entry = (overrides: Partial<UsageEntry>): UsageEntry => ({
  tenant: 'chat',
  endpoint: '/predict',
  at: new Date('2026-11-27T10:15:00Z'),
  items: 1,
  promptTokens: 100,
  characters: 20,
  flagged: 0,
  ...overrides,
});

describe('UsageLedger', () => {
  let directory: string;
  let ledger: UsageLedger;

  beforeEach(async () => {
    directory = mkdtempSync(join(tmpdir(), 'ledger-'));
    ledger = await UsageLedger.openSqlite(join(directory, 'nested', 'usage.sqlite'));
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('adds requests of one tenant, hour and endpoint into one row', async () => {
    await ledger.record(entry({}));
    await ledger.record(entry({ at: new Date('2026-11-27T10:59:59Z'), items: 3, promptTokens: 50, characters: 5, flagged: 2 }));
    await ledger.record(entry({ at: new Date('2026-11-27T11:00:00Z') }));
    await ledger.record(entry({ endpoint: '/v1/moderate' }));
    await ledger.record(entry({ tenant: 'shop' }));
    const rows = await ledger.query({ from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z'), granularity: 'hour' });
    expect(rows).toEqual([
      { tenant: 'chat', period: '2026-11-27T10:00:00Z', endpoint: '/predict', requests: 2, items: 4, promptTokens: 150, characters: 25, flagged: 2 },
      { tenant: 'chat', period: '2026-11-27T10:00:00Z', endpoint: '/v1/moderate', requests: 1, items: 1, promptTokens: 100, characters: 20, flagged: 0 },
      { tenant: 'chat', period: '2026-11-27T11:00:00Z', endpoint: '/predict', requests: 1, items: 1, promptTokens: 100, characters: 20, flagged: 0 },
      { tenant: 'shop', period: '2026-11-27T10:00:00Z', endpoint: '/predict', requests: 1, items: 1, promptTokens: 100, characters: 20, flagged: 0 },
    ]);
  });

  it('sums by day, filters by tenant, and keeps the hours that overlap [from, to)', async () => {
    await ledger.record(entry({}));
    await ledger.record(entry({ at: new Date('2026-11-27T23:30:00Z') }));
    await ledger.record(entry({ at: new Date('2026-11-28T00:30:00Z') }));
    await ledger.record(entry({ tenant: 'shop' }));
    const day = await ledger.query({ from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-29T00:00:00Z'), granularity: 'day', tenant: 'chat' });
    expect(day.map((row) => [row.period, row.requests])).toEqual([
      ['2026-11-27T00:00:00Z', 2],
      ['2026-11-28T00:00:00Z', 1],
    ]);
    const narrow = await ledger.query({ from: new Date('2026-11-27T10:45:00Z'), to: new Date('2026-11-27T23:00:00Z'), granularity: 'hour', tenant: 'chat' });
    expect(narrow.map((row) => row.period)).toEqual(['2026-11-27T10:00:00Z']);
  });

  it('keeps every row across a reopen (WAL on disk)', async () => {
    await ledger.record(entry({}));
    await ledger.close();
    ledger = await UsageLedger.openSqlite(join(directory, 'nested', 'usage.sqlite'));
    expect(await ledger.query({ from: new Date('2026-11-27T00:00:00Z'), to: new Date('2026-11-28T00:00:00Z'), granularity: 'hour' })).toHaveLength(1);
  });
});
