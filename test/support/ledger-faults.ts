import { StatementSync } from 'node:sqlite';

/**
 * The fault-injection switch for the SQLite usage ledger, and only for the suites: while on, every write
 * through node:sqlite in the test process fails exactly as SQLite fails on a read-only disk (the driver's
 * ERR_SQLITE_ERROR with SQLite's code 8, SQLITE_READONLY), so the real ledger, meter, filter, metrics and
 * HTTP layer meet the real error. Reads still work, as they do on a read-only disk: the ledger reads with
 * all(), writes with run(). (A real `mount -o remount,ro` is refused by the kernel while the ledger holds
 * its files open for writing.) Nothing in src/ can turn it on.
 */
export class LedgerFaults {
  private readOnly = false;
  private readonly spy: jest.SpyInstance;

  constructor() {
    const original = StatementSync.prototype.run;
    const faults = this;
    this.spy = jest.spyOn(StatementSync.prototype, 'run').mockImplementation(function (this: StatementSync, ...args: Parameters<StatementSync['run']>) {
      if (faults.readOnly)
        throw Object.assign(new Error('attempt to write a readonly database'), {
          code: 'ERR_SQLITE_ERROR',
          errcode: 8,
          errstr: 'attempt to write a readonly database',
        });
      return original.apply(this, args);
    });
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
