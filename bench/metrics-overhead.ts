/**
 * What the metrics cost: (a) the time the request hooks add to a request, (b) the time to render /metrics.
 *
 *   npm run bench:metrics            (= npm run build && tsx bench/metrics-overhead.ts)
 *   npx tsx bench/metrics-overhead.ts [--quick]   (after npm run build)
 *
 * (a) is measured three ways, requests sent through Fastify's inject (no sockets, so no network noise):
 *   - the application itself, built by createApp from dist/ (tsx cannot run Nest's decorators from sources:
 *     it emits no decorator metadata), once with METRICS_MODE=off and once with METRICS_MODE=separate, on two
 *     cheap routes (GET /health/live, and POST /predict answered 400 by validation) so the model never runs;
 *   - a bare Fastify route without hooks, with two empty hooks, and with registerRequestMetrics: the hooks
 *     without the rest of the application, and Fastify's own cost of running two more hooks;
 *   - the two hook functions alone in a tight loop (the work they add, with the least noise).
 *   The variants of a comparison live in one process and are measured in alternating rounds; the overhead
 *   is the median over rounds of (mean with metrics - mean without), in wall and in process CPU time, plus
 *   the difference of the per-request p50s. CPU time is the figure to read on a shared machine. The
 *   process-wide default collectors (GC observer, event-loop delay monitor) run for both variants alike.
 * (b) renders a registry holding the service's instruments and the default metrics, filled with realistic
 *   label sets (route templates x HTTP codes, verdict levels x categories, engine error codes) up to 1,000
 *   and 10,000 series, and also scrapes the 1,000-series registry over HTTP from the metrics listener.
 *
 * Prints a summary and writes the raw numbers to bench/results/metrics-overhead-<date>.json.
 */
import { execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import Fastify, { FastifyInstance } from 'fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Registry } from 'prom-client';
import { RISK_CATEGORIES, SAFETY_LEVELS, EngineErrorCode } from '../src/inference';
import { REQUEST_DURATION_BUCKETS } from '../src/metrics/metric-names';
import { MetricsServer } from '../src/metrics/metrics-server';
import { registerRequestMetrics } from '../src/http/request-metrics';
import { createMetricsRegistry, ServiceMetrics } from '../src/metrics/service-metrics';

const ROOT = resolve(__dirname, '..');
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 10 : 40;
const REQUESTS_PER_ROUND = QUICK ? 200 : 500;
const WARM_UP_REQUESTS = QUICK ? 1000 : 4000;

interface Stats {
  n: number;
  meanUs: number;
  p50Us: number;
  p95Us: number;
}

function stats(samplesNs: number[]): Stats {
  const sorted = [...samplesNs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] / 1000;
  return { n: sorted.length, meanUs: sorted.reduce((s, v) => s + v, 0) / sorted.length / 1000, p50Us: at(0.5), p95Us: at(0.95) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const round2 = (v: number) => Math.round(v * 100) / 100;

type Send = () => Promise<number>;

interface Comparison {
  route: string;
  off: Stats & { cpuUs: number };
  on: Stats & { cpuUs: number };
  /** Median over rounds of (round mean wall time on - off), microseconds per request. */
  addedMeanUs: number;
  /** Median over rounds of (round CPU time on - off) per request: insensitive to other processes' load. */
  addedCpuUs: number;
  /** p50 of every request with metrics minus p50 of every request without. */
  addedP50Us: number;
  /** Fastest round's CPU per request, with minus without: the least disturbed by other processes. */
  addedMinCpuUs: number;
}

/**
 * The same request against two targets in alternating rounds (the order flips each round). Per round and
 * target: the mean wall time and the process CPU time per request; every request's wall time is kept for
 * the percentiles.
 */
async function compare(route: string, off: Send, on: Send): Promise<Comparison> {
  for (let i = 0; i < WARM_UP_REQUESTS; i++) {
    // until the JIT has settled on both
    await off();
    await on();
  }
  const all = { off: [] as number[], on: [] as number[] };
  const cpu = { off: 0, on: 0 };
  const wallDiffs: number[] = [];
  const cpuDiffs: number[] = [];
  const cpuRounds = { off: [] as number[], on: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    const wall: Record<'off' | 'on', number> = { off: 0, on: 0 };
    const cpuPerRequest: Record<'off' | 'on', number> = { off: 0, on: 0 };
    for (const which of round % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
      const send = which === 'on' ? on : off;
      let total = 0;
      const cpuStart = process.cpuUsage();
      for (let i = 0; i < REQUESTS_PER_ROUND; i++) {
        const started = process.hrtime.bigint();
        const status = await send();
        const took = Number(process.hrtime.bigint() - started);
        if (status === 0) throw new Error(`${route}: no response`);
        all[which].push(took);
        total += took;
      }
      const used = process.cpuUsage(cpuStart);
      cpuPerRequest[which] = (used.user + used.system) / REQUESTS_PER_ROUND;
      cpu[which] += cpuPerRequest[which];
      cpuRounds[which].push(cpuPerRequest[which]);
      wall[which] = total / REQUESTS_PER_ROUND / 1000;
    }
    wallDiffs.push(wall.on - wall.off);
    cpuDiffs.push(cpuPerRequest.on - cpuPerRequest.off);
  }
  const offStats = { ...stats(all.off), cpuUs: round2(cpu.off / ROUNDS) };
  const onStats = { ...stats(all.on), cpuUs: round2(cpu.on / ROUNDS) };
  return {
    route,
    off: offStats,
    on: onStats,
    addedMeanUs: round2(median(wallDiffs)),
    addedCpuUs: round2(median(cpuDiffs)),
    addedP50Us: round2(onStats.p50Us - offStats.p50Us),
    addedMinCpuUs: round2(Math.min(...cpuRounds.on) - Math.min(...cpuRounds.off)),
  };
}

// --- (a) the hook functions alone ---------------------------------------------------------------------

interface HookCost {
  calls: number;
  /** CPU per request for onRequest + the response's close + onResponse, best of the runs. */
  bestNsPerRequest: number;
  medianNsPerRequest: number;
}

/**
 * The work the hooks add to one request, without Fastify around it: the two hook functions as registered
 * by registerRequestMetrics, called on stand-in request/reply objects (the response's `close` listener
 * added and fired like a real one), in a tight loop. Low noise; misses only Fastify's own cost of calling
 * one more hook, which the bare-Fastify comparison includes.
 */
function hookFunctionCost(): HookCost {
  type Hook = (request: unknown, reply: unknown, done: () => void) => void;
  const hooks: Record<string, Hook> = {};
  const fake = { addHook: (name: string, hook: Hook) => (hooks[name] = hook) } as unknown as FastifyInstance;
  registerRequestMetrics(fake, new ServiceMetrics(new Registry(), false));
  const raw = new EventEmitter();
  const routes = ['/predict', '/v1/moderate', '/v1/moderations', '/health/live', undefined];
  const requests = routes.map((url) => ({ method: url ? 'POST' : 'GET', routeOptions: { url } }));
  const reply = { raw, statusCode: 200, elapsedTime: 1.25 };
  const done = () => undefined;
  const calls = 200_000;
  const runs: number[] = [];
  for (let run = 0; run < (QUICK ? 5 : 15); run++) {
    const started = process.cpuUsage();
    for (let i = 0; i < calls; i++) {
      const request = requests[i % requests.length];
      reply.statusCode = i % 7 === 0 ? 400 : 200;
      hooks.onRequest(request, reply, done);
      hooks.onResponse(request, reply, done);
      raw.emit('close');
    }
    const used = process.cpuUsage(started);
    runs.push(((used.user + used.system) * 1000) / calls);
  }
  return { calls, bestNsPerRequest: Math.round(Math.min(...runs)), medianNsPerRequest: Math.round(median(runs)) };
}

// --- (a) the application ----------------------------------------------------------------------------------

async function applicationOverhead(): Promise<Comparison[]> {
  const factory = join(ROOT, 'dist', 'src', 'app-factory.js');
  if (!existsSync(factory)) throw new Error('dist/ is missing: run `npm run build` first (or `npm run bench:metrics`)');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createApp } = require(factory) as typeof import('../src/app-factory');
  // An existing but empty model directory: the configuration is valid, the model never loads (and is never
  // needed: neither route reaches the engine).
  const modelDir = mkdtempSync(join(tmpdir(), 'bench-no-model-'));
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'fatal', HOST: '127.0.0.1', METRICS_PORT: '0', QWEN3GUARD_MODEL_DIR: modelDir, DOCS_ENABLED: 'false' };
  const apps: Record<'off' | 'on', NestFastifyApplication> = {
    off: await createApp({ ...env, METRICS_MODE: 'off' }),
    on: await createApp({ ...env, METRICS_MODE: 'separate' }),
  };
  try {
    for (const app of Object.values(apps)) await app.init();
    const live = (app: NestFastifyApplication) => async () => (await app.inject({ method: 'GET', url: '/health/live' })).statusCode;
    const invalid = (app: NestFastifyApplication) => async () =>
      (await app.inject({ method: 'POST', url: '/predict', headers: { 'content-type': 'application/json' }, payload: '{}' })).statusCode;
    const results = [
      await compare('app GET /health/live (200)', live(apps.off), live(apps.on)),
      await compare('app POST /predict {} (400 validation)', invalid(apps.off), invalid(apps.on)),
    ];
    return results;
  } finally {
    await Promise.all(Object.values(apps).map((app) => app.close()));
    rmSync(modelDir, { recursive: true, force: true });
  }
}

// --- (a) the hooks alone ---------------------------------------------------------------------------------

/**
 * A bare Fastify route without hooks, with two empty hooks, and with the metrics hooks: the first pair is
 * what the hooks cost end to end, the second splits off what Fastify's running two more hooks costs.
 */
async function hookOverhead(): Promise<Comparison[]> {
  const build = async (variant: 'none' | 'empty' | 'metrics'): Promise<FastifyInstance> => {
    const fastify = Fastify();
    if (variant === 'metrics') registerRequestMetrics(fastify, new ServiceMetrics(new Registry(), false));
    if (variant === 'empty') {
      fastify.addHook('onRequest', (_request, _reply, done) => done());
      fastify.addHook('onResponse', (_request, _reply, done) => done());
    }
    fastify.get('/health/live', () => ({ status: 'ok' }));
    await fastify.ready();
    return fastify;
  };
  const none = await build('none');
  const empty = await build('empty');
  const metrics = await build('metrics');
  try {
    const send = (fastify: FastifyInstance) => async () => (await fastify.inject({ method: 'GET', url: '/health/live' })).statusCode;
    return [
      await compare('bare Fastify: no hooks / metrics hooks', send(none), send(metrics)),
      await compare('bare Fastify: empty hooks / metrics hooks', send(empty), send(metrics)),
    ];
  } finally {
    await Promise.all([none.close(), empty.close(), metrics.close()]);
  }
}

// --- (b) rendering -----------------------------------------------------------------------------------

const CODES = ['200', '400', '404', '413', '500', '503'];

/** The service's registry with realistic series, grown (one more route template at a time) to `target` series. */
async function filledRegistry(target: number): Promise<{ registry: Registry; series: number }> {
  const registry = createMetricsRegistry();
  const m = new ServiceMetrics(registry, false);
  // What a busy instance has: every verdict pair, every error code, engine histograms, model info.
  for (const level of SAFETY_LEVELS) for (const category of [...RISK_CATEGORIES, 'None']) m.verdicts.inc({ safety_level: level, category }, 7);
  for (const code of Object.values(EngineErrorCode)) m.engineErrors.inc({ code }, 1);
  for (const h of [m.queueWait, m.prefill, m.decode]) h.observe(0.05);
  m.batchSize.observe(4);
  m.modelInfo.set({ model: 'Qwen3Guard-Gen-0.6B', dtype: 'fp16', provider: 'cuda', version: '0.1.0' }, 1);
  m.markModelLoaded(12.5);
  const count = async () => (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#')).length;
  // Each route template: its request counters by method and code, and its latency histogram (21 series).
  let routes = 0;
  let series = await count();
  while (series < target) {
    const endpoint = routes < 3 ? ['/predict', '/v1/moderate', '/v1/moderations'][routes] : `/v1/route-${routes}/:id`;
    for (const code of CODES) m.requestCount.inc({ method: 'POST', endpoint, status: Number(code) >= 400 ? 'error' : 'success', code }, 3);
    m.requestDuration.observe({ endpoint }, 0.2);
    routes++;
    // Rendering after every route would be slow at 10,000: add what a route adds, recount now and then.
    series += CODES.length + REQUEST_DURATION_BUCKETS.length + 3; // counters; buckets, +Inf, _sum, _count
    if (routes % 20 === 0 || series >= target) series = await count();
  }
  return { registry, series: await count() };
}

interface RenderResult {
  targetSeries: number;
  /** Process CPU time per render or scrape (both ends of the HTTP scrape run in this process). */
  cpuMs: number;
  series: number;
  bytes: number;
  iterations: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** Times `exposition` over `iterations` runs (after 20 warm-up runs that also give the body's size). */
async function timeExposition(target: number, series: number, iterations: number, exposition: () => Promise<string>): Promise<RenderResult> {
  let bytes = 0;
  for (let i = 0; i < 20; i++) bytes = (await exposition()).length;
  const times: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const started = process.hrtime.bigint();
    await exposition();
    times.push(Number(process.hrtime.bigint() - started));
  }
  const cpu = process.cpuUsage(cpuStart);
  const s = stats(times);
  return {
    targetSeries: target,
    cpuMs: round2((cpu.user + cpu.system) / iterations / 1000),
    series,
    bytes,
    iterations,
    meanMs: round2(s.meanUs / 1000),
    p50Ms: round2(s.p50Us / 1000),
    p95Ms: round2(s.p95Us / 1000),
    maxMs: round2(Math.max(...times) / 1e6),
  };
}

async function renderTime(target: number, iterations: number): Promise<RenderResult> {
  const { registry, series } = await filledRegistry(target);
  return timeExposition(target, series, iterations, () => registry.metrics());
}

async function scrapeOverHttp(target: number, iterations: number): Promise<RenderResult> {
  const { registry, series } = await filledRegistry(target);
  const server = new MetricsServer(registry);
  const { port } = await server.listen(0, '127.0.0.1');
  try {
    const url = `http://127.0.0.1:${port}/metrics`;
    return await timeExposition(target, series, iterations, async () => (await fetch(url)).text());
  } finally {
    await server.close();
  }
}

// --- main -------------------------------------------------------------------------------------------

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd: ROOT }).toString().trim() !== '';
    return dirty ? `${sha} (with uncommitted changes under src/ or bench/)` : sha;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${platform()} ${release()}`,
    node: process.version,
  };
  console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}, Node ${machine.node}`);
  console.log(`(a) request overhead: ${ROUNDS} alternating rounds x ${REQUESTS_PER_ROUND} requests per variant, via inject`);

  const hookCost = hookFunctionCost();
  console.log(
    `  the hook functions alone: ${(hookCost.bestNsPerRequest / 1000).toFixed(2)} µs per request (best run; median ${(hookCost.medianNsPerRequest / 1000).toFixed(2)} µs)`,
  );
  const requestOverhead = [...(await hookOverhead()), ...(await applicationOverhead())];
  for (const r of requestOverhead) {
    console.log(
      `  ${r.route.padEnd(44)} off: mean ${r.off.meanUs.toFixed(1)} µs, p50 ${r.off.p50Us.toFixed(1)} µs, CPU ${r.off.cpuUs} µs | on: mean ${r.on.meanUs.toFixed(1)} µs, p50 ${r.on.p50Us.toFixed(1)} µs, CPU ${r.on.cpuUs} µs` +
        ` | added: mean ${r.addedMeanUs} µs, p50 ${r.addedP50Us} µs, CPU ${r.addedCpuUs} µs (fastest rounds ${r.addedMinCpuUs} µs)`,
    );
  }

  console.log('(b) /metrics render time');
  const render = [await renderTime(1000, QUICK ? 100 : 500), await renderTime(10_000, QUICK ? 20 : 100)];
  const http = [await scrapeOverHttp(1000, QUICK ? 50 : 200)];
  for (const r of render) {
    console.log(
      `  registry.metrics() ${r.series} series (${(r.bytes / 1024).toFixed(0)} KiB): mean ${r.meanMs} ms, p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, max ${r.maxMs} ms, CPU ${r.cpuMs} ms`,
    );
  }
  for (const r of http)
    console.log(`  GET /metrics over HTTP, ${r.series} series: mean ${r.meanMs} ms, p50 ${r.p50Ms} ms, p95 ${r.p95Ms} ms, CPU ${r.cpuMs} ms`);

  // Judged on the medians over rounds (wall and CPU) and the render p50: single slow outliers on a shared
  // machine say more about the machine than about the code, and are reported beside them.
  const targets = {
    perRequestAddedUsMax: 10,
    perRequestMetHookFunctions: hookCost.bestNsPerRequest <= 10_000,
    perRequestMetWall: requestOverhead.every((r) => r.addedMeanUs <= 10),
    perRequestMetCpu: requestOverhead.every((r) => r.addedCpuUs <= 10),
    renderMsAt1000Max: 10,
    renderMetAt1000: render[0].p50Ms < 10,
  };
  const word = (met: boolean) => (met ? 'met' : 'NOT met');
  console.log(
    `targets: <= 10 µs added per request: ${word(targets.perRequestMetHookFunctions)} (hook functions), ${word(targets.perRequestMetWall)} (wall, end to end), ${word(targets.perRequestMetCpu)} (CPU, end to end);` +
      ` < 10 ms per render at 1,000 series (p50): ${word(targets.renderMetAt1000)}`,
  );

  const date = new Date().toISOString();
  const load = loadavg().map(round2);
  console.log(`load average while measuring: ${load.join(' ')}`);
  const result = {
    date,
    commit: commit(),
    command: `npx tsx bench/metrics-overhead.ts${QUICK ? ' --quick' : ''}`,
    machine,
    loadAverage: load,
    rounds: ROUNDS,
    requestsPerRound: REQUESTS_PER_ROUND,
    hookFunctionCost: hookCost,
    requestOverhead,
    render,
    http,
    targets,
  };
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `metrics-overhead-${date.slice(0, 10)}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`raw results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
