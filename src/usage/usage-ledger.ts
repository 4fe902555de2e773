import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** What one answered request used; the ledger adds it to its tenant's row for that hour and endpoint. */
export interface UsageEntry {
  tenant: string;
  endpoint: string;
  at: Date;
  /** Inputs moderated (a batch request carries several). */
  items: number;
  promptTokens: number;
  /** Unicode code points of every text moderated. */
  characters: number;
  /** Inputs the tenant's policy flagged or blocked. */
  flagged: number;
}

export const USAGE_GRANULARITIES = ['hour', 'day'] as const;
export type UsageGranularity = (typeof USAGE_GRANULARITIES)[number];

export interface UsageQuery {
  from: Date;
  to: Date;
  granularity: UsageGranularity;
  /** Only this tenant; undefined: every tenant. */
  tenant?: string;
}

export interface UsageRow {
  tenant: string;
  /** Start of the hour or day, ISO 8601 UTC. */
  period: string;
  endpoint: string;
  requests: number;
  items: number;
  promptTokens: number;
  characters: number;
  flagged: number;
}

/** Characters of `YYYY-MM-DDTHH` and `YYYY-MM-DD`: a period is a prefix of the stored hour. */
const PERIOD_LENGTH: Readonly<Record<UsageGranularity, number>> = { hour: 13, day: 10 };
const PERIOD_SUFFIX: Readonly<Record<UsageGranularity, string>> = { hour: ':00:00Z', day: 'T00:00:00Z' };

/**
 * The durable usage ledger: SQLite in WAL mode, one row per tenant, hour and endpoint. Each record is one
 * committed upsert, done before the response is sent, so a request the client saw answered is in the
 * ledger even if the process is killed the next instant (a committed WAL transaction survives the
 * process; surviving power loss as well would need synchronous=FULL, an fsync per request).
 * Plain TypeScript: the service, tests and tools open it alike.
 */
export class UsageLedger {
  private readonly db: Database.Database;
  private readonly upsert: Database.Statement;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    // Another process (a second replica on the same volume, a reporting job) may hold the lock briefly.
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS usage (
      tenant TEXT NOT NULL,
      hour TEXT NOT NULL,
      endpoint TEXT NOT NULL,
      requests INTEGER NOT NULL,
      items INTEGER NOT NULL,
      prompt_tokens INTEGER NOT NULL,
      characters INTEGER NOT NULL,
      flagged INTEGER NOT NULL,
      PRIMARY KEY (tenant, hour, endpoint)
    ) WITHOUT ROWID`);
    this.upsert = this.db.prepare(`INSERT INTO usage VALUES (@tenant, @hour, @endpoint, 1, @items, @promptTokens, @characters, @flagged)
      ON CONFLICT (tenant, hour, endpoint) DO UPDATE SET
        requests = requests + 1, items = items + excluded.items, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        characters = characters + excluded.characters, flagged = flagged + excluded.flagged`);
  }

  record(entry: UsageEntry): void {
    const { tenant, endpoint, items, promptTokens, characters, flagged } = entry;
    this.upsert.run({ tenant, endpoint, items, promptTokens, characters, flagged, hour: hourOf(entry.at) });
  }

  /** Sums per tenant, period and endpoint over the hours that overlap [from, to), ordered by tenant, period, endpoint. */
  query({ from, to, granularity, tenant }: UsageQuery): UsageRow[] {
    const length = PERIOD_LENGTH[granularity];
    const rows = this.db
      .prepare(
        `SELECT tenant, substr(hour, 1, ${length}) AS period, endpoint, sum(requests) AS requests, sum(items) AS items,
           sum(prompt_tokens) AS promptTokens, sum(characters) AS characters, sum(flagged) AS flagged
         FROM usage WHERE hour >= ? AND hour < ? ${tenant === undefined ? '' : 'AND tenant = ?'}
         GROUP BY tenant, period, endpoint ORDER BY tenant, period, endpoint`,
      )
      .all(...[hourOf(from), hourOf(to, 'up'), ...(tenant === undefined ? [] : [tenant])]) as UsageRow[];
    return rows.map((row) => ({ ...row, period: row.period + PERIOD_SUFFIX[granularity] }));
  }

  close(): void {
    this.db.close();
  }
}

/** `YYYY-MM-DDTHH` of the hour holding `at` (or, rounding up, the first hour starting at or after it). */
function hourOf(at: Date, rounding: 'down' | 'up' = 'down'): string {
  const hourMs = 3_600_000;
  const start = rounding === 'down' ? Math.floor(at.getTime() / hourMs) : Math.ceil(at.getTime() / hourMs);
  return new Date(start * hourMs).toISOString().slice(0, 13);
}
