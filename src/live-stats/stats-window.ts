import { SAFETY_LEVELS, SafetyLevel } from '../inference';

/** Cumulative counts since the service started, read at one moment (see registry-sample.ts). */
export interface StatsSample {
  /** Milliseconds on a monotonic clock. */
  at: number;
  /** Moderation requests answered, and those among them answered with an error status. */
  requests: number;
  errors: number;
  /** Their latency histogram: the sum and count of seconds, and the cumulative count per upper bound (`Infinity` last). */
  latencySum: number;
  latencyCount: number;
  latencyBuckets: ReadonlyArray<readonly [upperBound: number, count: number]>;
  verdicts: Readonly<Record<SafetyLevel, number>>;
}

/** What happened between two samples, as GET /v1/stats answers it. */
export interface WindowStats {
  window_seconds: number;
  requests: number;
  requests_per_second: number;
  errors: number;
  /** Null when no request finished in the window. */
  latency_ms: { mean: number; p50: number; p95: number } | null;
  verdicts: Record<SafetyLevel, number>;
}

export function statsBetween(older: StatsSample, newer: StatsSample): WindowStats {
  const seconds = (newer.at - older.at) / 1000;
  const requests = newer.requests - older.requests;
  return {
    window_seconds: round(seconds, 1),
    requests,
    requests_per_second: seconds > 0 ? round(requests / seconds, 3) : 0,
    errors: newer.errors - older.errors,
    latency_ms: latencyBetween(older, newer),
    verdicts: Object.fromEntries(SAFETY_LEVELS.map((level) => [level, newer.verdicts[level] - older.verdicts[level]])) as Record<SafetyLevel, number>,
  };
}

function latencyBetween(older: StatsSample, newer: StatsSample): WindowStats['latency_ms'] {
  const count = newer.latencyCount - older.latencyCount;
  if (count <= 0) return null;
  const buckets = newer.latencyBuckets.map(([bound, cumulative], i) => [bound, cumulative - (older.latencyBuckets[i]?.[1] ?? 0)] as const);
  const milliseconds = (seconds: number) => round(seconds * 1000, 1);
  return {
    mean: milliseconds((newer.latencySum - older.latencySum) / count),
    p50: milliseconds(bucketQuantile(0.5, buckets)),
    p95: milliseconds(bucketQuantile(0.95, buckets)),
  };
}

/**
 * A quantile estimated from cumulative histogram buckets the way Prometheus' histogram_quantile does:
 * linear within the bucket holding the rank; a rank in the `+Inf` bucket gets the largest finite bound.
 */
export function bucketQuantile(q: number, buckets: ReadonlyArray<readonly [number, number]>): number {
  const total = buckets[buckets.length - 1]?.[1] ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/**
 * The samples a rolling window needs, taken only when someone asks (no timer): each new sample is compared
 * with the newest one at least `spanMs` old, or the oldest kept while the service is younger than that.
 * Samples closer together than `spacingMs` are not kept, so many polling pages keep the list short.
 */
export class SampleWindow {
  private samples: StatsSample[] = [];

  constructor(
    private readonly spanMs: number,
    private readonly spacingMs: number,
  ) {}

  /** Records the sample and returns the one it is to be compared with. */
  advance(sample: StatsSample): StatsSample {
    const cutoff = sample.at - this.spanMs;
    const outOfSpan = this.samples.filter((kept) => kept.at <= cutoff).length;
    // Keep the newest sample out of the span: it is the baseline.
    this.samples.splice(0, Math.max(0, outOfSpan - 1));
    const baseline = this.samples[0] ?? sample;
    const newest = this.samples[this.samples.length - 1];
    if (newest === undefined || sample.at - newest.at >= this.spacingMs) this.samples.push(sample);
    return baseline;
  }
}
