import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { buildDist, ROOT, SERVICE_ENTRY } from './support/build-output';
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
 * SIGKILL (no shutdown hook runs); Debian's sqlite3 then reads the ledger it left behind.
 *
 * The ledger may hold a few more requests than were acknowledged, never fewer: a request whose row was
 * committed can lose its response to the kill. Those are bounded by the requests in flight at the kill.
 */
describe('usage ledger across SIGKILL (e2e)', () => {
  let workDir: string;
  let child: ChildProcess | undefined;

  beforeAll(async () => {
    await buildDist();
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-crash-'));
    await ensureDemoModel(join(workDir, 'cache'));
  });

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(workDir, { recursive: true, force: true });
  });

  it('holds every acknowledged request after the process is killed under load', async () => {
    const tenant = testTenant('crash');
    const ledgerPath = join(workDir, 'ledger', 'usage.sqlite');
    const port = await freePort();
    child = spawn(process.execPath, [SERVICE_ENTRY], {
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
        QWEN3GUARD_USAGE_DB: ledgerPath,
        ALLOW_ANONYMOUS: 'false',
        QWEN3GUARD_MAX_QUEUE_WAIT_MS: '0', // every request accepted, however slow the machine
      },
      stdio: 'ignore',
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child!.once('exit', (_code, signal) => resolve(signal)));
    await waitFor('the model to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok ? true : undefined), 90_000);

    let acknowledged = 0;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let killed = false;
    const kill = () => {
      if (killed) return;
      killed = true;
      inFlightAtKill = inFlight;
      child!.kill('SIGKILL');
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

    const sqlite = (sql: string) => promisify(execFile)('sqlite3', [ledgerPath, sql]).then(({ stdout }) => stdout.trim());
    expect(await sqlite('PRAGMA integrity_check')).toBe('ok');
    const ledgered = Number(await sqlite("SELECT coalesce(sum(requests), 0) FROM usage WHERE tenant = 'crash' AND endpoint = '/predict'"));
    expect(acknowledged).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
    expect(ledgered).toBeGreaterThanOrEqual(acknowledged);
    expect(ledgered).toBeLessThanOrEqual(acknowledged + inFlightAtKill);
    process.stdout.write(`usage ledger after SIGKILL: acknowledged ${acknowledged}, ledger ${ledgered}, in flight at the kill ${inFlightAtKill}\n`);
  });
});
