/**
 * Soak: the service on the demo model, saturated by autocannon over loopback for SOAK_SECONDS (default 300,
 * or the first argument), after a warm-up. Records every status code (any 5xx is unexpected: at this
 * concurrency the queue never fills), RSS growth from the end of the warm-up to the end, and the event-loop
 * lag p99 the service itself reports (prom-client's monitorEventLoopDelay, reset at each scrape) every 5 s.
 *
 *   npm run bench:soak                  # 5 minutes
 *   SOAK_SECONDS=60 npm run bench:soak  # a shorter run
 *
 * Writes bench/results/soak-<date>.json and prints a summary with the targets of docs/reliability.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { percentile, PREDICT_REQUESTS, round, scrape, startService } from './support/service-process';

const SECONDS = Number(process.argv[2] ?? process.env.SOAK_SECONDS ?? 300);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 16);
const WARM_UP_SECONDS = 15;
const SAMPLE_EVERY_MS = 5000;
const RSS = 'process_resident_memory_bytes';
const LAG_P99 = 'nodejs_eventloop_lag_p99_seconds';

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const service = await startService();
  try {
    const idle = await scrape(service.metrics, [RSS]);
    await autocannon({ url: service.api, connections: CONNECTIONS, duration: WARM_UP_SECONDS, timeout: 60, requests: PREDICT_REQUESTS });
    await scrape(service.metrics, [LAG_P99]); // resets the lag histogram: the run starts clean

    const samples: Array<{ atSeconds: number; rssBytes: number; lagP99Ms: number }> = [];
    const started = Date.now();
    const sampler = setInterval(() => {
      void scrape(service.metrics, [RSS, LAG_P99]).then((values) =>
        samples.push({ atSeconds: round((Date.now() - started) / 1000), rssBytes: values[RSS], lagP99Ms: round(values[LAG_P99] * 1000, 2) }),
      );
    }, SAMPLE_EVERY_MS);
    const afterWarmUp = await scrape(service.metrics, [RSS]);
    // A request counts as timed out only after 60 s: on a shared machine a slow answer is still an answer.
    const result = await autocannon({ url: service.api, connections: CONNECTIONS, duration: SECONDS, timeout: 60, requests: PREDICT_REQUESTS });
    clearInterval(sampler);
    const end = await scrape(service.metrics, [RSS]);

    const statuses = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]));
    const unexpected5xx = Object.entries(statuses).reduce((sum, [code, count]) => sum + (Number(code) >= 500 ? count : 0), 0);
    const lags = samples.map((sample) => sample.lagP99Ms);
    const report = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpus()[0]?.model,
        loadAverageBefore: loadBefore.map((v) => round(v, 2)),
        loadAverageAfter: loadavg().map((v) => round(v, 2)),
      },
      settings: { seconds: SECONDS, connections: CONNECTIONS, warmUpSeconds: WARM_UP_SECONDS, endpoint: 'POST /predict (demo model, four texts in turn)' },
      requests: {
        total: result.requests.total,
        perSecond: round(result.requests.average),
        errors: result.errors,
        timeouts: result.timeouts,
        statuses,
        unexpected5xx,
      },
      latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
      rss: {
        idleMiB: round(idle[RSS] / 2 ** 20),
        afterWarmUpMiB: round(afterWarmUp[RSS] / 2 ** 20),
        endMiB: round(end[RSS] / 2 ** 20),
        maxMiB: round(Math.max(...samples.map((sample) => sample.rssBytes)) / 2 ** 20),
        growthPercent: round(((end[RSS] - afterWarmUp[RSS]) / afterWarmUp[RSS]) * 100, 2),
      },
      eventLoopLagP99Ms: { samples: lags.length, median: percentile(lags, 50), p99OfSamples: percentile(lags, 99), max: Math.max(...lags) },
      samples,
    };
    const file = join(__dirname, 'results', `soak-${report.date.slice(0, 10)}.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT MET');
    console.log(JSON.stringify({ ...report, samples: undefined }, null, 2));
    console.log(`unexpected 5xx: ${unexpected5xx} (target 0: ${verdict(unexpected5xx === 0)})`);
    console.log(`RSS growth: ${report.rss.growthPercent} % (target < 10 %: ${verdict(report.rss.growthPercent < 10)})`);
    console.log(`event-loop lag p99, worst 5 s interval: ${report.eventLoopLagP99Ms.max} ms (target < 100 ms: ${verdict(report.eventLoopLagP99Ms.max < 100)})`);
    console.log(`written to ${file}`);
  } finally {
    await service.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
