import { Kysely, sql } from 'kysely';
import { LedgerBackend, LedgerDatabase, LedgerSettings, openLedgerDatabase } from './ledger/ledger-database';
import { migrateLedger } from './ledger/ledger-migrations';
import { LedgerTables } from './ledger/ledger-tables';

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
 * The durable usage ledger, one row per tenant, hour and endpoint, on SQLite (embedded, the default) or
 * PostgreSQL (shared by every replica) through one Kysely query layer. Each record is one committed upsert,
 * awaited before the response is sent, so a request the client saw answered is in the ledger even if the
 * process is killed the next instant. Plain TypeScript: the service, tests, tools and benchmarks open it alike.
 */
export class UsageLedger {
  readonly backend: LedgerBackend;
  /** The migrations this open applied (none when the schema was already current). */
  appliedMigrations: readonly string[] = [];
  private readonly db: Kysely<LedgerTables>;

  private constructor({ db, backend }: LedgerDatabase) {
    this.db = db;
    this.backend = backend;
  }

  /** Opens the ledger and brings its schema to the latest migration (a database it cannot reach throws). */
  static async open(settings: LedgerSettings): Promise<UsageLedger> {
    const ledger = new UsageLedger(openLedgerDatabase(settings));
    try {
      ledger.appliedMigrations = await migrateLedger(ledger.db as Kysely<unknown>);
    } catch (error) {
      await ledger.close();
      throw error;
    }
    return ledger;
  }

  /** The embedded SQLite ledger at `path` (`:memory:` for none on disk). */
  static openSqlite(path: string): Promise<UsageLedger> {
    return UsageLedger.open({ sqlitePath: path, poolSize: 1, connectTimeoutMs: 1, statementTimeoutMs: 1 });
  }

  async record(entry: UsageEntry): Promise<void> {
    const { tenant, endpoint, items, promptTokens, characters, flagged } = entry;
    await this.db
      .insertInto('usage')
      .values({ tenant, endpoint, hour: hourOf(entry.at), requests: 1, items, prompt_tokens: promptTokens, characters, flagged })
      .onConflict((conflict) =>
        conflict.columns(['tenant', 'hour', 'endpoint']).doUpdateSet((row) => ({
          requests: row('usage.requests', '+', 1),
          items: row('usage.items', '+', row.ref('excluded.items')),
          prompt_tokens: row('usage.prompt_tokens', '+', row.ref('excluded.prompt_tokens')),
          characters: row('usage.characters', '+', row.ref('excluded.characters')),
          flagged: row('usage.flagged', '+', row.ref('excluded.flagged')),
        })),
      )
      .execute();
  }

  /** Sums per tenant, period and endpoint over the hours that overlap [from, to), ordered by tenant, period, endpoint. */
  async query({ from, to, granularity, tenant }: UsageQuery): Promise<UsageRow[]> {
    // A literal length, not a parameter: PostgreSQL matches the GROUP BY expression to the selected one by its text.
    const period = sql<string>`substr(${sql.ref('hour')}, 1, ${sql.lit(PERIOD_LENGTH[granularity])})`;
    const rows = await this.db
      .selectFrom('usage')
      .select((row) => [
        'tenant',
        period.as('period'),
        'endpoint',
        row.fn.sum<SqlCount>('requests').as('requests'),
        row.fn.sum<SqlCount>('items').as('items'),
        row.fn.sum<SqlCount>('prompt_tokens').as('promptTokens'),
        row.fn.sum<SqlCount>('characters').as('characters'),
        row.fn.sum<SqlCount>('flagged').as('flagged'),
      ])
      .where('hour', '>=', hourOf(from))
      .where('hour', '<', hourOf(to, 'up'))
      .$if(tenant !== undefined, (query) => query.where('tenant', '=', tenant!))
      .groupBy(['tenant', period, 'endpoint'])
      .orderBy('tenant')
      .orderBy(period)
      .orderBy('endpoint')
      .execute();
    return rows.map((row) => ({
      tenant: row.tenant,
      period: row.period + PERIOD_SUFFIX[granularity],
      endpoint: row.endpoint,
      requests: Number(row.requests),
      items: Number(row.items),
      promptTokens: Number(row.promptTokens),
      characters: Number(row.characters),
      flagged: Number(row.flagged),
    }));
  }

  /** Whether the database answers at all (readiness reports it); throws what the driver threw when it does not. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}

/** PostgreSQL sums bigints into numerics, which its driver hands over as strings; SQLite gives numbers. */
type SqlCount = number | string;

/** `YYYY-MM-DDTHH` of the hour holding `at` (or, rounding up, the first hour starting at or after it). */
function hourOf(at: Date, rounding: 'down' | 'up' = 'down'): string {
  const hourMs = 3_600_000;
  const start = rounding === 'down' ? Math.floor(at.getTime() / hourMs) : Math.ceil(at.getTime() / hourMs);
  return new Date(start * hourMs).toISOString().slice(0, 13);
}
