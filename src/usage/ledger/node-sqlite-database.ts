import { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Node's built-in SQLite (node:sqlite) in the shape Kysely's SqliteDialect drives (better-sqlite3's): the
 * dialect hands parameters over as one array and asks whether a statement returns rows. Statements are
 * prepared once per SQL text: the ledger issues a handful of query shapes, each many times.
 */
export function nodeSqliteDatabase(database: DatabaseSync): SqliteDatabase {
  const prepared = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = prepared.get(sql);
      if (!statement) {
        statement = kyselyStatement(database.prepare(sql));
        prepared.set(sql, statement);
      }
      return statement;
    },
  };
}

function kyselyStatement(statement: StatementSync): SqliteStatement {
  // Kysely's compiler only emits values SQLite binds (numbers, strings, bigints, buffers, null).
  const bind = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
  return {
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...bind(parameters)),
    run: (parameters) => statement.run(...bind(parameters)),
    iterate: (parameters) => statement.iterate(...bind(parameters)),
  };
}
