import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { buildDist, ROOT, SERVICE_ENTRY } from './support/build-output';
import { describeWithDatabaseServers, PostgresServer } from './support/database-servers';
import { freePort, waitFor } from './monitoring/support/tools';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(300_000);

const CLIENTS = 6;
/** Killed once this many requests were answered (or at the deadline below, whichever comes first). */
const ACKNOWLEDGED_BEFORE_KILL = 40;
const LOAD_DEADLINE_MS = 60_000;

/**
 * The ledger's promise: a request the client saw answered is in the ledger, even when the process dies the
 * next instant. The compiled service runs as a child process under concurrent load and is killed with
 * SIGKILL (no shutdown hook runs); the ledger it left behind is then read outside the service: Debian's
 * sqlite3 for the embedded ledger, a PostgreSQL client for the shared one.
 *
 * The ledger may hold a few more requests than were acknowledged, never fewer: a request whose row was
 * committed can lose its response to the kill. Those are bounded by the requests in flight at the kill.
 */
describe('usage ledger across SIGKILL (e2e)', () => {
  let workDir: string;

  beforeAll(async () => {
    await buildDist();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-crash-'));
    await ensureDemoModel(join(workDir, 'cache'));
  });

  afterAll(() => {
    rmSync(workDir, { recursive: true, force: true });
  });

  it('holds every acknowledged request after the process is killed under load (SQLite)', async () => {
    const ledgerPath = join(workDir, 'ledger', 'usage.sqlite');
    const { acknowledged, inFlightAtKill } = await killUnderLoad(workDir, { QWEN3GUARD_USAGE_DB: ledgerPath });
    const sqlite = (query: string) => promisify(execFile)('sqlite3', [ledgerPath, query]).then(({ stdout }) => stdout.trim());
    expect(await sqlite('PRAGMA integrity_check')).toBe('ok');
    expectLedgerHolds(Number(await sqlite(LEDGERED_SQL)), acknowledged, inFlightAtKill, 'SQLite');
  });

  describeWithDatabaseServers('on PostgreSQL', () => {
    let postgres: PostgresServer;
    beforeAll(async () => {
      postgres = await PostgresServer.start();
    });
    afterAll(async () => {
      await postgres?.remove();
    });

    it('holds every acknowledged request after the process is killed under load (PostgreSQL)', async () => {
      const url = await postgres.createDatabase('crash');
      const { acknowledged, inFlightAtKill } = await killUnderLoad(workDir, { QWEN3GUARD_DATABASE_URL: url });
      const client = new Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ total: string }>(LEDGERED_SQL.replace('coalesce(sum(requests), 0)', 'coalesce(sum(requests), 0) AS total'));
      await client.end();
      expectLedgerHolds(Number(rows[0].total), acknowledged, inFlightAtKill, 'PostgreSQL');
    });
  });
});

const LEDGERED_SQL = "SELECT coalesce(sum(requests), 0) FROM usage WHERE tenant = 'crash' AND endpoint = '/predict'";

function expectLedgerHolds(ledgered: number, acknowledged: number, inFlightAtKill: number, backend: string): void {
  expect(acknowledged).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
  expect(ledgered).toBeGreaterThanOrEqual(acknowledged);
  expect(ledgered).toBeLessThanOrEqual(acknowledged + inFlightAtKill);
  process.stdout.write(`usage ledger (${backend}) after SIGKILL: acknowledged ${acknowledged}, ledger ${ledgered}, in flight at the kill ${inFlightAtKill}\n`);
}

/** Starts the built service with the ledger settings given, loads it from CLIENTS clients, and SIGKILLs it. */
async function killUnderLoad(workDir: string, ledgerEnv: Record<string, string>): Promise<{ acknowledged: number; inFlightAtKill: number }> {
  const tenant = testTenant('crash');
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [SERVICE_ENTRY], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'error',
      HOST: '127.0.0.1',
      PORT: String(port),
      METRICS_PORT: '0',
      QWEN3GUARD_CACHE_DIR: join(workDir, 'cache'),
      QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [tenant]),
      ALLOW_ANONYMOUS: 'false',
      QWEN3GUARD_MAX_QUEUE_WAIT_MS: '0', // every request accepted, however slow the machine
      ...ledgerEnv,
    },
    stdio: 'ignore',
  });
  try {
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await waitFor(
      'the model to be ready',
      async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok ? true : undefined),
      90_000,
    );

    let acknowledged = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight;
      child.kill('SIGKILL');
    };
    const deadline = Date.now() + LOAD_DEADLINE_MS;
    const client = async (id: number) => {
      for (let n = 0; !killed && Date.now() < deadline; n++) {
        inFlight++;
        try {
          const response = await fetch(`http://127.0.0.1:${port}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.key}` },
            body: JSON.stringify({ text: `client ${id} request ${n}` }),
          });
          // Acknowledged: the whole 200 response arrived.
          if (response.status === 200 && ((await response.json()) as { safety_level?: string }).safety_level) acknowledged++;
        } catch {
          // Cut off by the kill: not acknowledged.
        } finally {
          inFlight--;
        }
        if (acknowledged >= ACKNOWLEDGED_BEFORE_KILL) kill();
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, id) => client(id)));
    kill();
    expect(await exited).toBe('SIGKILL');
    return { acknowledged, inFlightAtKill };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
