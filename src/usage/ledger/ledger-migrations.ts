import { Kysely, Migration, MigrationProvider, Migrator } from 'kysely';

/**
 * The ledger's schema, as versioned migrations applied in name order and recorded in the database
 * (kysely_migration). Add a migration, never edit one that has shipped. They are part of the build (not
 * files read at run time), so the compiled service and the CLI carry them wherever they run.
 */
const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-usage': {
    // IF NOT EXISTS: SQLite ledgers written before migrations existed already hold this very table.
    up: async (db: Kysely<unknown>) => {
      await db.schema
        .createTable('usage')
        .ifNotExists()
        .addColumn('tenant', 'text', (column) => column.notNull())
        .addColumn('hour', 'text', (column) => column.notNull())
        .addColumn('endpoint', 'text', (column) => column.notNull())
        .addColumn('requests', 'bigint', (column) => column.notNull())
        .addColumn('items', 'bigint', (column) => column.notNull())
        .addColumn('prompt_tokens', 'bigint', (column) => column.notNull())
        .addColumn('characters', 'bigint', (column) => column.notNull())
        .addColumn('flagged', 'bigint', (column) => column.notNull())
        .addPrimaryKeyConstraint('usage_pkey', ['tenant', 'hour', 'endpoint'])
        .execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/**
 * Brings the ledger's schema to the latest version; returns the names of the migrations it applied. Safe
 * to run from several replicas at once: Kysely's migrator holds a lock (an advisory lock on PostgreSQL).
 */
export async function migrateLedger(db: Kysely<unknown>): Promise<string[]> {
  const { error, results = [] } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`the ledger migration failed: ${JSON.stringify(error)}`);
  return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
}
