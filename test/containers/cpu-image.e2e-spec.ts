/**
 * The CPU image built from the unchanged Dockerfile with podman and run as an operator would: read-only root
 * filesystem, only the declared volumes writable. `npm run test:containers` (root; .ci/run installs podman,
 * runc and debootstrap). What it cannot do here it prints; it never passes silently.
 */
import { readFileSync } from 'node:fs';
import { AppConfig } from '../../src/config/app-config';
import { describeWithTools, freePort, waitFor } from '../monitoring/support/tools';
import { BaseImageSource } from './support/node-base-image';
import { configurePodman, CONTAINERS_CONF, podman, podmanOk } from './support/podman';
import { buildServiceImage } from './support/service-image';

jest.setTimeout(1_800_000);

const IMAGE = 'localhost/qwen3guard-gen-web:container-test';
const CONTAINER = `qwen3guard-container-test-${process.pid}`;
const VOLUMES = ['/var/cache/qwen3guard', '/var/lib/qwen3guard'];
const DEFAULTS = new AppConfig();
/** Requests in flight at SIGTERM: a bounded load, each one to two seconds of demo-model work. */
const IN_FLIGHT = 6;
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(100);

const report = (line: string) => process.stdout.write(`[containers] ${line}\n`);

describeWithTools('CPU image (Dockerfile), built and run with podman', ['podman', 'runc', 'debootstrap'], () => {
  let api: string;
  let metrics: string;
  let baseSource: BaseImageSource;
  let coldStartMs: number;

  beforeAll(async () => {
    report(`${CONTAINERS_CONF}: ${configurePodman()} (default_ulimits = []); runtime: runc`);
    baseSource = await buildServiceImage(IMAGE, report);

    const [apiPort, metricsPort] = [await freePort(), await freePort()];
    api = `http://127.0.0.1:${apiPort}`;
    metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    await podman(['rm', '-f', '-v', CONTAINER]);
    const started = Date.now();
    await podmanOk([
      'run',
      '-d',
      '--name',
      CONTAINER,
      '--read-only',
      '--read-only-tmpfs=false',
      '-e',
      'QWEN3GUARD_MAX_BATCH=1',
      '-e',
      'QWEN3GUARD_MAX_QUEUE_WAIT_MS=0',
      '-p',
      `127.0.0.1:${apiPort}:${DEFAULTS.PORT}`,
      '-p',
      `127.0.0.1:${metricsPort}:${DEFAULTS.METRICS_PORT}`,
      IMAGE,
    ]);
    await waitFor(
      '/health/ready to turn ready',
      async () => ((await fetch(`${api}/health/ready`).catch(() => undefined))?.status === 200 ? true : undefined),
      300_000,
      200,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${(await podman(['logs', CONTAINER])).stderr.slice(-4000)}`);
    });
    coldStartMs = Date.now() - started;
  });

  afterAll(async () => {
    const logs = await podman(['logs', CONTAINER]);
    if (logs.code === 0 && process.env.QWEN3GUARD_CONTAINERS_LOGS === '1') report(logs.stdout + logs.stderr);
    await podman(['rm', '-f', '-v', CONTAINER]);
  });

  it('reports the image size and the cold start to ready', async () => {
    const size = Number(await podmanOk(['image', 'inspect', '--format', '{{.Size}}', IMAGE]));
    report(`image size: ${(size / 1e6).toFixed(0)} MB (aim: <= 400 MB without a model); base ${baseSource}`);
    report(`cold start to /health/ready 200 (demo model built at first start): ${(coldStartMs / 1000).toFixed(1)} s`);
    expect(size).toBeGreaterThan(0);
  });

  it('runs as uid/gid 10001', async () => {
    expect((await podmanOk(['exec', CONTAINER, 'id', '-u'])).trim()).toBe('10001');
    expect((await podmanOk(['exec', CONTAINER, 'id', '-g'])).trim()).toBe('10001');
    // The service's own process, seen from the host (no user namespace): real, effective, saved and fs uid.
    const pid = (await podmanOk(['inspect', '--format', '{{.State.Pid}}', CONTAINER])).trim();
    expect(/^Uid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].split(/\s+/)).toEqual(['10001', '10001', '10001', '10001']);
  });

  it('has a read-only root filesystem: only the declared volumes are writable', async () => {
    // access(2) answers EROFS on a read-only mount, so -writable lists what the user can really write.
    // /proc, /sys and /dev (the kernel's, incl. /dev/shm) are not the image's and are left out.
    const writable = await podman([
      'exec',
      CONTAINER,
      'find',
      '/',
      '(',
      '-path',
      '/proc',
      '-o',
      '-path',
      '/sys',
      '-o',
      '-path',
      '/dev',
      ')',
      '-prune',
      '-o',
      '-writable',
      '-print',
    ]);
    // find exits 1 for root's own directories (/root, ...) that uid 10001 cannot even list; nothing else may go wrong.
    expect(writable.stderr.split('\n').filter((line) => line && !/^find: '[^']+': Permission denied$/.test(line))).toEqual([]);
    const paths = writable.stdout.split('\n').filter(Boolean);
    expect(paths.filter((path) => !VOLUMES.some((volume) => path === volume || path.startsWith(`${volume}/`)))).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(VOLUMES));
    const intoRoot = await podman(['exec', CONTAINER, 'sh', '-c', 'echo x > /app/probe || echo x > /tmp/probe']);
    expect(intoRoot.code).not.toBe(0);
    expect(intoRoot.stderr).toMatch(/Read-only file system/);
    expect(await podmanOk(['exec', CONTAINER, 'ls', '/var/lib/qwen3guard'])).toMatch(/usage\.sqlite/);
  });

  it('serves the demo model: POST /predict answers 200 on 8080', async () => {
    const response = await fetch(`${api}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'How do I bake bread?' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ model: 'qwen3guard-gen-demo', safety_level: expect.any(String) });
  });

  it('serves /metrics on 8000, not on the API port', async () => {
    const response = await fetch(metrics);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^qwen3guard_request_count_total\{[^}]*endpoint="\/predict"/m);
    expect((await fetch(`${api}/metrics`)).status).toBe(404);
  });

  it(`exits 0 on SIGTERM under load within the drain time (SHUTDOWN_DRAIN_MS ${DEFAULTS.SHUTDOWN_DRAIN_MS}), failing no accepted request`, async () => {
    const inFlight = Array.from({ length: IN_FLIGHT }, () => predict());
    await waitFor('the load to reach the service', async () => ((await inflightRequests()) >= 2 ? true : undefined), 60_000, 50);
    const signalled = Date.now();
    await podmanOk(['kill', '--signal', 'TERM', CONTAINER]);
    const exitCode = (await podmanOk(['wait', CONTAINER], DEFAULTS.SHUTDOWN_DRAIN_MS + 60_000)).trim();
    const stoppedMs = Date.now() - signalled;
    const outcomes = await Promise.all(inFlight);
    report(`SIGTERM with ${IN_FLIGHT} requests sent: exit ${exitCode} after ${(stoppedMs / 1000).toFixed(1)} s; answers ${outcomes.join(', ')}`);
    expect(exitCode).toBe('0');
    expect(stoppedMs).toBeLessThan(DEFAULTS.SHUTDOWN_DRAIN_MS);
    // Accepted = answered or cut off mid-answer; only "refused" (never connected) or 503 SHUTTING_DOWN are not failures.
    expect(outcomes.filter((outcome) => outcome !== '200' && outcome !== 'refused' && outcome !== '503 SHUTTING_DOWN')).toEqual([]);
    expect(outcomes.filter((outcome) => outcome === '200').length).toBeGreaterThan(0);
  });

  async function predict(): Promise<string> {
    try {
      const response = await fetch(`${api}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: TEXT }) });
      const body = (await response.json()) as { code?: string };
      return response.status === 200 ? '200' : `${response.status} ${body.code ?? ''}`.trim();
    } catch (error) {
      return (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED'
        ? 'refused'
        : `failed: ${String((error as { cause?: unknown }).cause ?? error)}`;
    }
  }

  async function inflightRequests(): Promise<number> {
    const text = await (await fetch(metrics)).text();
    return Number(/^qwen3guard_inflight_requests (\S+)$/m.exec(text)?.[1] ?? 0);
  }
});
