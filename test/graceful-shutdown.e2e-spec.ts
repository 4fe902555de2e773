import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { freePort, waitFor } from './monitoring/support/tools';

jest.setTimeout(300_000);

const ROOT = join(__dirname, '..');
/** Requests in flight at SIGTERM; with batches of one they are answered one after another. */
const IN_FLIGHT = 6;
/**
 * One to two seconds of demo-model work each on a shared 2-core machine: every request reaches the service
 * before the first is answered, and the drain lasts several seconds.
 */
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(100);

interface Answer {
  status: number;
  body: Record<string, unknown>;
  finishedAt: number;
}

/**
 * SIGTERM to the built service (dist/src/main.js, as `npm start` and the container run it) while moderation
 * requests are in flight: each of them is answered, readiness turns 503 at once, a request sent after the
 * signal is refused with 503 SHUTTING_DOWN, and the process exits 0 once the last one is done.
 */
describe('graceful shutdown (e2e)', () => {
  let cacheDir: string;
  let child: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let output = '';
  let api: string;
  let metrics: string;

  beforeAll(async () => {
    await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT }).catch((error: { stdout?: string; message: string }) => {
      throw new Error(`${error.message}\n${error.stdout ?? ''}`);
    });
    cacheDir = mkdtempSync(join(tmpdir(), 'qwen3guard-shutdown-'));
    await ensureDemoModel(cacheDir);
    const [port, metricsPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${port}`;
    metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    child = spawn(process.execPath, [join('dist', 'src', 'main.js')], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'log',
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_MAX_BATCH: '1',
        // Every request must be accepted, however slowly a shared machine runs the ones ahead of it.
        QWEN3GUARD_MAX_QUEUE_WAIT_MS: '0',
        SHUTDOWN_DRAIN_MS: '120000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(
      'the model to be ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}:\n${output}`);
        return (await fetch(`${api}/health/ready`).catch(() => undefined))?.status === 200 ? true : undefined;
      },
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-4000)}`);
    });
  });

  afterAll(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('finishes every in-flight request, refuses new ones, fails readiness, then exits 0', async () => {
    const inFlight = Array.from({ length: IN_FLIGHT }, () => predict(TEXT));
    // Signal only once every one of them reached the service: being handled, or (on a slow start) answered.
    await waitFor('every request to reach the service', async () => ((await requestsReceived()) >= IN_FLIGHT ? true : undefined), 60_000, 50);
    expect(child.kill('SIGTERM')).toBe(true);

    const notReady = await waitFor(
      'readiness to fail',
      async () => {
        const probe = await fetch(`${api}/health/ready`);
        return probe.status === 503 ? await probe.json() : undefined;
      },
      10_000,
      20,
    );
    const notReadyAt = Date.now();
    expect(notReady).toMatchObject({ status: 'error', details: { model: { status: 'down', state: 'shutting-down' } } });
    expect((await fetch(`${api}/health/live`)).status).toBe(200);

    const refused = await fetch(`${api}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'hello' }) });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'SHUTTING_DOWN',
      message: 'the service is shutting down; retry on another instance',
    });

    const answers = await Promise.all(inFlight);
    expect(answers.map((answer) => answer.status)).toEqual(Array(IN_FLIGHT).fill(200));
    for (const { body } of answers) expect(body).toMatchObject({ safety_level: 'safe', model: 'qwen3guard-gen-demo' });
    // The drain is real only if requests were still being answered after the service stopped being ready.
    expect(answers.filter((answer) => answer.finishedAt > notReadyAt).length).toBeGreaterThan(0);

    expect(await exited).toEqual({ code: 0, signal: null });
    expect(output).toMatch(/SIGTERM: not ready, refusing new requests, draining \d+ in flight/);
  });

  async function predict(text: string): Promise<Answer> {
    const response = await fetch(`${api}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) });
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body, finishedAt: Date.now() };
  }

  /** Requests being handled (no probe is running meanwhile) plus the /predict requests already answered. */
  async function requestsReceived(): Promise<number> {
    const text = await (await fetch(metrics)).text();
    const inFlight = Number(/^qwen3guard_inflight_requests (\S+)$/m.exec(text)?.[1] ?? 0);
    const answered = [...text.matchAll(/^qwen3guard_request_count_total\{[^}]*endpoint="\/predict"[^}]*\} (\S+)$/gm)].reduce(
      (sum, match) => sum + Number(match[1]),
      0,
    );
    return inFlight + answered;
  }
});
