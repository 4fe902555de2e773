import { Counter, Histogram, Registry } from 'prom-client';
import { SAFETY_LEVELS, SafetyLevel } from '../inference';
import { METRICS } from '../metrics/metric-names';
import { StatsSample } from './stats-window';
import { MODERATION_ROUTES } from '../common/routes';

/** The routes of moderation calls; probes, docs, the playground's files and the stats themselves are left out. */
export const MODERATION_ENDPOINTS: ReadonlySet<string> = new Set(MODERATION_ROUTES);

/**
 * Reads the service's own Prometheus instruments (the request counter and latency histogram, the verdict
 * counter; see metric-names.ts) into one sample: the same numbers /metrics exposes, nothing measured twice.
 */
export async function sampleRegistry(registry: Registry, at: number): Promise<StatsSample> {
  const [requests, latency, verdicts] = await Promise.all([
    valuesOf(registry, METRICS.requestCount.name, Counter),
    valuesOf(registry, METRICS.requestDuration.name, Histogram),
    valuesOf(registry, METRICS.verdicts.name, Counter),
  ]);
  const moderation = (labels: Labels) => MODERATION_ENDPOINTS.has(String(labels.endpoint));
  const calls = requests.filter(({ labels }) => moderation(labels));
  const timings = latency.filter(({ labels }) => moderation(labels));
  return {
    at,
    requests: total(calls),
    errors: total(calls.filter(({ labels }) => labels.status === 'error')),
    latencySum: total(timings.filter(({ metricName }) => metricName?.endsWith('_sum'))),
    latencyCount: total(timings.filter(({ metricName }) => metricName?.endsWith('_count'))),
    latencyBuckets: bucketTotals(timings.filter(({ metricName }) => metricName?.endsWith('_bucket'))),
    verdicts: Object.fromEntries(SAFETY_LEVELS.map((level) => [level, total(verdicts.filter(({ labels }) => labels.safety_level === level))])) as Record<
      SafetyLevel,
      number
    >,
  };
}

type Labels = Record<string, string | number | undefined>;
interface Value {
  labels: Labels;
  value: number;
  metricName?: string;
}

/** A metric's values, or none while it is not registered (or not of the expected kind). */
async function valuesOf(registry: Registry, name: string, kind: typeof Counter | typeof Histogram): Promise<Value[]> {
  const metric = registry.getSingleMetric(name);
  if (!(metric instanceof kind)) return [];
  return (await metric.get()).values;
}

function total(values: readonly Value[]): number {
  return values.reduce((sum, { value }) => sum + value, 0);
}

/** Cumulative bucket counts summed over endpoints, by upper bound, ascending (`+Inf` as Infinity, last). */
function bucketTotals(values: readonly Value[]): Array<readonly [number, number]> {
  const byBound = new Map<number, number>();
  for (const { labels, value } of values) {
    const bound = labels.le === '+Inf' ? Infinity : Number(labels.le);
    byBound.set(bound, (byBound.get(bound) ?? 0) + value);
  }
  return [...byBound.entries()].sort(([a], [b]) => a - b);
}
