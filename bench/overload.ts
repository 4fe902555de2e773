/**
 * Overload: the service on the demo model, first at 80 % of the rate it sustains, then offered ten times
 * that rate (OVERLOAD_FACTOR), then left alone. Probe clients send one request at a time each throughout
 * and time every answer themselves, so accepted and refused requests are timed apart (autocannon reports
 * one latency for all).
 *
 *   npm run bench:overload                                       # the queue bounds at their defaults
 *   OVERLOAD_MAX_QUEUE_WAIT_MS=0 npm run bench:overload          # only the depth bound (QWEN3GUARD_MAX_QUEUE)
 *   OVERLOAD_MAX_QUEUE=32 OVERLOAD_MAX_QUEUE_WAIT_MS=0 npm run bench:overload
 *
 * Reports: the sustainable rate; the probe's accepted latency at 80 % and under 10x; how refused requests
 * were answered (status, code, latency); every status autocannon saw; how long after the burst a probe
 * request was again accepted as fast as at 80 %. Writes bench/results/overload-<date>.json.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { percentile, PREDICT_REQUESTS, round, scrape, startService } from './support/service-process';

const PHASE_SECONDS = Number(process.env.OVERLOAD_PHASE_SECONDS ?? 20);
const MAX_QUEUE = process.env.OVERLOAD_MAX_QUEUE;
const MAX_QUEUE_WAIT_MS = process.env.OVERLOAD_MAX_QUEUE_WAIT_MS;
const FACTOR = Number(process.env.OVERLOAD_FACTOR ?? 10);
const CONNECTIONS = 16;
/** Probe clients under overload, where most probes are refused (one at 80 %, where more would add load). */
const OVERLOAD_PROBES = 4;
const RECOVERY_LIMIT_MS = 60_000;

interface ProbeAnswer {
  status: number;
  code?: string;
  ms: number;
}

/** `clients` clients, one request at a time each, until stopped: each answer's status, error code and time as the client saw it. */
function probe(api: string, clients = 1): { stop: () => Promise<ProbeAnswer[]> } {
  const answers: ProbeAnswer[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async () => {
    while (running) answers.push(await probeOnce(api));
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return answers;
    },
  };
}

async function probeOnce(api: string): Promise<ProbeAnswer> {
  const started = performance.now();
  const response = await fetch(`${api}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'probe: is this fine?' }),
  });
  const body = (await response.json()) as { code?: string };
  return { status: response.status, code: body.code, ms: round(performance.now() - started) };
}

function summarise(answers: readonly ProbeAnswer[]) {
  const accepted = answers.filter((answer) => answer.status === 200).map((answer) => answer.ms);
  const refused = answers.filter((answer) => answer.status !== 200);
  const codes: Record<string, number> = {};
  for (const { status, code } of refused) codes[`${status} ${code ?? ''}`.trim()] = (codes[`${status} ${code ?? ''}`.trim()] ?? 0) + 1;
  return {
    accepted: {
      count: accepted.length,
      p50Ms: percentile(accepted, 50),
      p99Ms: percentile(accepted, 99),
      maxMs: accepted.length ? Math.max(...accepted) : Number.NaN,
    },
    refused: {
      count: refused.length,
      codes,
      p50Ms: percentile(
        refused.map((r) => r.ms),
        50,
      ),
      p99Ms: percentile(
        refused.map((r) => r.ms),
        99,
      ),
    },
  };
}

function statusCounts(result: autocannon.AutocannonResult): Record<string, number> {
  return Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const service = await startService({
    ...(MAX_QUEUE && { QWEN3GUARD_MAX_QUEUE: MAX_QUEUE }),
    ...(MAX_QUEUE_WAIT_MS && { QWEN3GUARD_MAX_QUEUE_WAIT_MS: MAX_QUEUE_WAIT_MS }),
  });
  try {
    // The rate it sustains: closed loop at the soak's concurrency, after a short warm-up.
    await autocannon({ url: service.api, connections: CONNECTIONS, duration: 5, timeout: 60, requests: PREDICT_REQUESTS });
    const saturated = await autocannon({ url: service.api, connections: CONNECTIONS, duration: PHASE_SECONDS, timeout: 60, requests: PREDICT_REQUESTS });
    // Answered verdicts only: with a small queue bound some of these requests are already refused.
    const sustainable = (saturated.statusCodeStats['200']?.count ?? 0) / saturated.duration;

    const steadyProbe = probe(service.api);
    const steady = await autocannon({
      url: service.api,
      connections: CONNECTIONS,
      overallRate: Math.max(1, Math.round(sustainable * 0.8)),
      duration: PHASE_SECONDS,
      timeout: 60,
      requests: PREDICT_REQUESTS,
    });
    const steadyAnswers = summarise(await steadyProbe.stop());

    const overloadProbe = probe(service.api, OVERLOAD_PROBES);
    let maxQueueDepth = 0;
    const queueSampler = setInterval(() => {
      void scrape(service.metrics, ['qwen3guard_queue_depth']).then((values) => (maxQueueDepth = Math.max(maxQueueDepth, values.qwen3guard_queue_depth)));
    }, 500);
    const queueCapacity = Number(MAX_QUEUE ?? 256);
    // autocannon paces each connection and sends on it only after its previous answer: enough connections
    // that the ones held by accepted (slow) requests leave the rest free to offer the full rate.
    const overloadConnections = Math.max(20 * CONNECTIONS, queueCapacity + 64);
    const overload = await autocannon({
      url: service.api,
      connections: overloadConnections,
      overallRate: Math.round(sustainable * FACTOR),
      duration: PHASE_SECONDS,
      timeout: 60,
      requests: PREDICT_REQUESTS,
    });
    clearInterval(queueSampler);
    const overloadAnswers = summarise(await overloadProbe.stop());

    // Recovery: from the end of the burst until a probe request is accepted as fast as at 80 %.
    const burstEnded = performance.now();
    let recoveryMs = Number.NaN;
    while (performance.now() - burstEnded < RECOVERY_LIMIT_MS) {
      const answer = await probeOnce(service.api);
      if (answer.status === 200 && answer.ms <= Math.max(2 * steadyAnswers.accepted.p50Ms, steadyAnswers.accepted.p99Ms)) {
        recoveryMs = round(performance.now() - burstEnded);
        break;
      }
    }
    const after = await scrape(service.metrics, ['qwen3guard_queue_depth', 'process_resident_memory_bytes']);

    const report = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadAverageBefore: loadBefore.map((v) => round(v, 2)),
        loadAverageAfter: loadavg().map((v) => round(v, 2)),
      },
      settings: {
        phaseSeconds: PHASE_SECONDS,
        maxQueue: queueCapacity,
        maxQueueWaitMs: Number(MAX_QUEUE_WAIT_MS ?? 2000),
        overloadFactor: FACTOR,
        connectionsSteady: CONNECTIONS,
        connectionsOverload: overloadConnections,
        probeClientsOverload: OVERLOAD_PROBES,
      },
      sustainable: {
        requestsPerSecond: round(sustainable),
        latencyMs: { p50: saturated.latency.p50, p99: saturated.latency.p99 },
        statuses: statusCounts(saturated),
      },
      steady: {
        offeredPerSecond: Math.round(sustainable * 0.8),
        servedPerSecond: round(steady.requests.average),
        statuses: statusCounts(steady),
        probe: steadyAnswers,
      },
      overload: {
        targetPerSecond: Math.round(sustainable * FACTOR),
        offeredPerSecond: round(overload.requests.sent / PHASE_SECONDS),
        sent: overload.requests.sent,
        answeredPerSecond: round(overload.requests.average),
        maxQueueDepth,
        statuses: statusCounts(overload),
        errors: overload.errors,
        timeouts: overload.timeouts,
        latencyAllMs: { p50: overload.latency.p50, p99: overload.latency.p99, max: overload.latency.max },
        probe: overloadAnswers,
      },
      recovery: {
        msUntilAcceptedAtSteadyLatency: recoveryMs,
        queueDepthAfter: after.qwen3guard_queue_depth,
        rssAfterMiB: round(after.process_resident_memory_bytes / 2 ** 20),
      },
    };
    const file = join(__dirname, 'results', `overload-${report.date.slice(0, 10)}-queue${queueCapacity}-wait${report.settings.maxQueueWaitMs}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
    console.log(`written to ${file}`);
  } finally {
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
