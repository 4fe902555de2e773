import { bucketQuantile, SampleWindow, StatsSample, statsBetween } from './stats-window';

function sample(at: number, fields: Partial<StatsSample> = {}): StatsSample {
  return {
    at,
    requests: 0,
    errors: 0,
    latencySum: 0,
    latencyCount: 0,
    latencyBuckets: [
      [0.1, 0],
      [0.5, 0],
      [1, 0],
      [Infinity, 0],
    ],
    verdicts: { safe: 0, controversial: 0, unsafe: 0 },
    ...fields,
  };
}

describe('statsBetween', () => {
  it('reports what happened between two samples', () => {
    const older = sample(1_000, { requests: 10, errors: 1, latencySum: 2, latencyCount: 10, verdicts: { safe: 8, controversial: 1, unsafe: 1 } });
    const newer = sample(21_000, {
      requests: 20,
      errors: 2,
      latencySum: 5,
      latencyCount: 20,
      latencyBuckets: [
        [0.1, 0],
        [0.5, 10],
        [1, 18],
        [Infinity, 20],
      ],
      verdicts: { safe: 14, controversial: 2, unsafe: 4 },
    });
    expect(statsBetween(older, newer)).toEqual({
      window_seconds: 20,
      requests: 10,
      requests_per_second: 0.5,
      errors: 1,
      latency_ms: { mean: 300, p50: 500, p95: 1000 },
      verdicts: { safe: 6, controversial: 1, unsafe: 3 },
    });
  });

  it('has no latency when no request finished, and no rate over an empty window', () => {
    expect(statsBetween(sample(5), sample(5))).toMatchObject({ window_seconds: 0, requests: 0, requests_per_second: 0, latency_ms: null });
  });
});

describe('bucketQuantile', () => {
  const buckets: Array<[number, number]> = [
    [0.1, 10],
    [0.5, 30],
    [1, 40],
    [Infinity, 40],
  ];

  it('interpolates inside the bucket holding the rank, as histogram_quantile does', () => {
    expect(bucketQuantile(0.25, buckets)).toBeCloseTo(0.1);
    expect(bucketQuantile(0.5, buckets)).toBeCloseTo(0.3);
    expect(bucketQuantile(0.95, buckets)).toBeCloseTo(0.9);
  });

  it('answers the largest finite bound for a rank in +Inf', () => {
    expect(
      bucketQuantile(0.99, [
        [1, 1],
        [Infinity, 100],
      ]),
    ).toBe(1);
  });
});

describe('SampleWindow', () => {
  it('compares with the first sample while the service is younger than the span', () => {
    const window = new SampleWindow(60_000, 1_000);
    const first = sample(0);
    expect(window.advance(first)).toBe(first);
    expect(window.advance(sample(5_000))).toBe(first);
    expect(window.advance(sample(59_000))).toBe(first);
  });

  it('then compares with the newest sample at least a span old', () => {
    const window = new SampleWindow(60_000, 1_000);
    const samples = [0, 5_000, 10_000, 15_000].map((at) => sample(at));
    for (const s of samples) window.advance(s);
    expect(window.advance(sample(66_000))).toBe(samples[1]);
    expect(window.advance(sample(75_000))).toBe(samples[3]);
  });

  it('keeps one sample per spacing, however many pages poll', () => {
    const window = new SampleWindow(60_000, 1_000);
    const first = sample(0);
    window.advance(first);
    for (let at = 1; at < 1_000; at += 10) window.advance(sample(at));
    // None of the close ones was kept: a sample just over a span later still compares with the first.
    expect(window.advance(sample(60_500))).toBe(first);
  });
});
