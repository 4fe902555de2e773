import { Command } from 'commander';
import { loadAppConfig } from '../../config/load-app-config';
import { ledgerSettings } from '../../usage/ledger/ledger-database';
import { UsageLedger } from '../../usage/usage-ledger';

/** `qwen3guard db migrate`: the usage ledger's migrations, run by an operator (the service also runs them at start-up). */
export function addDbCommand(program: Command): void {
  const db = program.command('db').description("manage the usage ledger's database");
  db.command('migrate')
    .description('bring the usage ledger (QWEN3GUARD_DATABASE_URL, else the SQLite file QWEN3GUARD_USAGE_DB) to the latest schema')
    .addHelpText('after', '\nConfigured by the same environment as the service. Safe to run while replicas run: migrations take a lock.')
    .action(migrate);
}

async function migrate(): Promise<void> {
  const config = loadAppConfig();
  const ledger = await UsageLedger.open(ledgerSettings(config));
  await ledger.close();
  const applied = ledger.appliedMigrations;
  process.stderr.write(
    `${ledger.backend} usage ledger is at the latest schema; ${applied.length === 0 ? 'nothing to apply' : `applied ${applied.join(', ')}`}\n`,
  );
}
