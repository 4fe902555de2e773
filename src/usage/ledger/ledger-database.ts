import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { Pool } from 'pg';
import type { AppConfig } from '../../config/app-config';
import { LedgerTables } from './ledger-tables';
import { nodeSqliteDatabase } from './node-sqlite-database';

export type LedgerBackend = 'sqlite' | 'postgres';

/** Where the ledger lives and how the service talks to it (from AppConfig, see ledgerSettings). */
export interface LedgerSettings {
  /** `postgres://…`: the shared PostgreSQL ledger; undefined: the SQLite file at sqlitePath. */
  databaseUrl?: string;
  /** The embedded ledger's file, or `:memory:`. */
  sqlitePath: string;
  poolSize: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  /** Told about errors of idle PostgreSQL connections (a restarted server): they must not crash the process. */
  onIdleConnectionError?: (error: Error) => void;
}

export interface LedgerDatabase {
  db: Kysely<LedgerTables>;
  backend: LedgerBackend;
}

export function openLedgerDatabase(settings: LedgerSettings): LedgerDatabase {
  return settings.databaseUrl === undefined
    ? { db: new Kysely<LedgerTables>({ dialect: new SqliteDialect({ database: openSqlite(settings.sqlitePath) }) }), backend: 'sqlite' }
    : { db: new Kysely<LedgerTables>({ dialect: new PostgresDialect({ pool: postgresPool(settings, settings.databaseUrl) }) }), backend: 'postgres' };
}

/**
 * SQLite in WAL mode through Node's built-in driver: a committed transaction survives the process being
 * killed the next instant; surviving power loss as well would need synchronous=FULL, an fsync per request.
 */
function openSqlite(path: string) {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const database = new DatabaseSync(path);
  database.exec('PRAGMA journal_mode = WAL');
  database.exec('PRAGMA synchronous = NORMAL');
  // Another process (a second replica on the same volume, a reporting job) may hold the lock briefly.
  database.exec('PRAGMA busy_timeout = 5000');
  return nodeSqliteDatabase(database);
}

/**
 * A connection pool whose every wait is bounded: with the server gone, a write fails within the connect
 * timeout (the request gets its 503) instead of hanging; the pool reconnects by itself once the server is
 * back. statement_timeout bounds a statement on the server, query_timeout the client's wait for an answer.
 */
function postgresPool(settings: LedgerSettings, connectionString: string): Pool {
  const pool = new Pool({
    connectionString,
    max: settings.poolSize,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs,
    application_name: 'qwen3guard',
  });
  pool.on('error', (error) => settings.onIdleConnectionError?.(error));
  // The pool listens for errors on idle connections only (reported above). A connection checked out but
  // between statements (Kysely holds one from BEGIN to COMMIT) that the server terminates would emit 'error'
  // with no listener and crash the process: here it is heard and left to the statement, which fails and
  // answers the request's 503; the pool drops the broken connection on release.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The ledger settings the configuration names. */
export function ledgerSettings(config: AppConfig, onIdleConnectionError?: (error: Error) => void): LedgerSettings {
  return {
    databaseUrl: config.QWEN3GUARD_DATABASE_URL,
    sqlitePath: config.QWEN3GUARD_USAGE_DB,
    poolSize: config.QWEN3GUARD_DATABASE_POOL_SIZE,
    connectTimeoutMs: config.QWEN3GUARD_DATABASE_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: config.QWEN3GUARD_DATABASE_STATEMENT_TIMEOUT_MS,
    onIdleConnectionError,
  };
}
