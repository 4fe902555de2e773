import Database from 'better-sqlite3';

/**
 * The fault-injection switch for the usage ledger, and only for the suites: while on, every write through
 * better-sqlite3 in the test process fails exactly as SQLite fails on a read-only disk (an SqliteError with
 * code SQLITE_READONLY), so the real ledger, meter, filter, metrics and HTTP layer meet the real error.
 * Reads still work, as they do on a read-only disk. (A real `mount -o remount,ro` is refused by the kernel
 * while the ledger holds its files open for writing.) Nothing in src/ can turn it on.
 */
export class LedgerFaults {
  private readOnly = false;
  private readonly spy: jest.SpyInstance;

  constructor() {
    const statements = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Database.Statement;
    const original = statements.run;
    const faults = this;
    this.spy = jest.spyOn(statements, 'run').mockImplementation(function (this: Database.Statement, ...args: unknown[]) {
      if (faults.readOnly && !this.reader) throw new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY');
      return (original as (...a: unknown[]) => Database.RunResult).apply(this, args);
    } as typeof original);
  }

  makeReadOnly(): void {
    this.readOnly = true;
  }

  makeWritable(): void {
    this.readOnly = false;
  }

  restore(): void {
    this.spy.mockRestore();
  }
}
