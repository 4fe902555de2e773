import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  ALL_METRICS,
  BURN_RATE_WINDOWS,
  DEFAULT_METRICS,
  ENGINE_ERROR_CODES,
  exposedSeriesNames,
  isDefinedMetricName,
  isKnownMetricName,
  JOB,
  LATENCY_SLO_THRESHOLD_SECONDS,
  METRICS,
  MetricDefinition,
  NON_SLO_ENDPOINT_REGEX,
  REQUEST_DURATION_BUCKETS,
  SLO,
  LABEL,
  UNMATCHED_ENDPOINT,
  VERDICT_CATEGORIES,
  VERDICT_SAFETY_LEVELS,
} from './metric-names';

const service = Object.values(METRICS) as MetricDefinition[];

describe('metric-names', () => {
  describe('the seed tutorial contract', () => {
    it('keeps the request counter name, type and labels', () => {
      expect(METRICS.requestCount).toMatchObject({ name: 'qwen3guard_request_count_total', type: 'counter' });
      expect(METRICS.requestCount.labelNames).toEqual(['method', 'endpoint', 'status', 'code', 'tenant']);
    });

    it('keeps the request duration histogram with only the endpoint label', () => {
      expect(METRICS.requestDuration).toMatchObject({ name: 'qwen3guard_request_duration_seconds', type: 'histogram' });
      expect(METRICS.requestDuration.labelNames).toEqual(['endpoint']);
    });

    it('spans about 5 ms to 60 s with an edge at the 2 s alert threshold', () => {
      expect(REQUEST_DURATION_BUCKETS[0]).toBe(0.005);
      expect(REQUEST_DURATION_BUCKETS[REQUEST_DURATION_BUCKETS.length - 1]).toBe(60);
      expect(LATENCY_SLO_THRESHOLD_SECONDS).toBe(2);
      expect(REQUEST_DURATION_BUCKETS).toContain(LATENCY_SLO_THRESHOLD_SECONDS);
    });

    it('keeps the job names and the metrics port', () => {
      expect(JOB).toEqual({ service: 'qwen3guard-gen-web', nodeExporter: 'node-exporter' });
    });

    it("lists the tutorial's process metrics", () => {
      const names = Object.values(DEFAULT_METRICS).map((m) => m.name);
      expect(names).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_resident_memory_bytes']));
    });
  });

  describe('naming conventions', () => {
    it.each(service.map((m) => [m.name, m]))('%s is prefixed, snake case and in base units', (_name, m) => {
      expect(m.name).toMatch(/^qwen3guard_[a-z][a-z0-9_]*[a-z0-9]$/);
      expect(m.name).not.toMatch(/_(ms|milliseconds|us|microseconds|kb|mb|gb|kilobytes|megabytes|percent)(_|$)/);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      expect(m.help.length).toBeGreaterThan(10);
    });

    it('never uses one name twice', () => {
      const names = ALL_METRICS.flatMap(exposedSeriesNames);
      expect(new Set(names).size).toBe(names.length);
    });

    it.each(ALL_METRICS.map((m) => [m.name, m]))('%s has valid, bounded label names', (_name, m) => {
      for (const label of m.labelNames) {
        expect(label).toMatch(/^[a-z][a-z0-9_]*$/);
        expect(label.startsWith('__')).toBe(false);
        // Unbounded values never become labels.
        expect(['url', 'path', 'route_path', 'user', 'user_id', 'request_id', 'id', 'text', 'input', 'le', 'quantile']).not.toContain(label);
      }
    });

    it('has ascending positive buckets exactly on histograms', () => {
      for (const m of ALL_METRICS) {
        if (m.type !== 'histogram') {
          expect(m.buckets).toBeUndefined();
          continue;
        }
        expect(m.buckets?.length).toBeGreaterThan(3);
        const b = m.buckets ?? [];
        for (let i = 1; i < b.length; i++) expect(b[i]).toBeGreaterThan(b[i - 1]);
        expect(b[0]).toBeGreaterThan(0);
      }
    });

    it('marks only the GPU gauges as CUDA-only', () => {
      const cudaOnly = service.filter((m) => m.presence === 'cuda').map((m) => m.name);
      expect(cudaOnly.sort()).toEqual(['qwen3guard_gpu_memory_total_bytes', 'qwen3guard_gpu_memory_used_bytes', 'qwen3guard_gpu_utilization_ratio']);
    });
  });

  describe('label values', () => {
    it('has small fixed value sets for the verdict and error labels', () => {
      expect(VERDICT_SAFETY_LEVELS).toEqual(['safe', 'controversial', 'unsafe']);
      expect(VERDICT_CATEGORIES).toContain('None');
      expect(VERDICT_CATEGORIES.length).toBeLessThanOrEqual(12);
      expect(ENGINE_ERROR_CODES.length).toBeGreaterThan(0);
      expect(ENGINE_ERROR_CODES.length).toBeLessThanOrEqual(16);
      expect(UNMATCHED_ENDPOINT).not.toMatch(/^\//);
    });

    it('puts the tenant label on the request, verdict and token counters only, never on a histogram', () => {
      const labelled = ALL_METRICS.filter((m) => m.labelNames.includes(LABEL.tenant)).map((m) => m.name);
      expect(labelled).toEqual([METRICS.requestCount.name, METRICS.tokens.name, METRICS.verdicts.name]);
    });

    it('leaves probe routes, and only those, out of the SLOs', () => {
      const re = new RegExp(`^(?:${NON_SLO_ENDPOINT_REGEX})$`);
      for (const probe of ['/health', '/health/live', '/health/ready', '/metrics']) expect(re.test(probe)).toBe(true);
      for (const route of ['/predict', '/v1/moderations', UNMATCHED_ENDPOINT]) expect(re.test(route)).toBe(false);
    });
  });

  describe('SLOs', () => {
    it('defines the objectives and the four multi-window burn-rate pairs', () => {
      expect(SLO.availability).toBe(0.995);
      expect(SLO.latency).toBe(0.99);
      expect(BURN_RATE_WINDOWS.map((w) => [w.severity, w.burnRate, w.long, w.short])).toEqual([
        ['critical', 14.4, '1h', '5m'],
        ['critical', 6, '6h', '30m'],
        ['warning', 3, '1d', '2h'],
        ['warning', 1, '3d', '6h'],
      ]);
    });
  });

  describe('name lookup', () => {
    it('knows every series a definition exposes, and external series by prefix', () => {
      expect(isDefinedMetricName('qwen3guard_request_duration_seconds_bucket')).toBe(true);
      expect(isDefinedMetricName('qwen3guard_request_duration_seconds')).toBe(false);
      expect(isKnownMetricName('node_memory_MemAvailable_bytes')).toBe(true);
      expect(isKnownMetricName('DCGM_FI_DEV_FB_USED')).toBe(true);
      expect(isKnownMetricName('up')).toBe(true);
      expect(isKnownMetricName('qwen3guard_requests_total')).toBe(false);
      expect(isKnownMetricName('http_requests_total')).toBe(false);
    });
  });

  describe('with prom-client', () => {
    it('registers every service definition as declared and exposes the declared series', async () => {
      const registry = new Registry();
      for (const m of service) {
        const config = { name: m.name, help: m.help, labelNames: [...m.labelNames], registers: [registry] };
        if (m.type === 'counter') new Counter(config);
        else if (m.type === 'gauge') new Gauge(config);
        else new Histogram({ ...config, buckets: [...(m.buckets ?? [])] });
      }
      const json = await registry.getMetricsAsJSON();
      expect(json.map((m) => [m.name, m.type])).toEqual(service.map((m) => [m.name, m.type]));

      const duration = registry.getSingleMetric(METRICS.requestDuration.name) as Histogram<string>;
      duration.observe({ endpoint: '/predict' }, 0.3);
      const text = await registry.metrics();
      expect(text).toContain('qwen3guard_request_duration_seconds_bucket{le="2",endpoint="/predict"} 1');
      expect(text).toContain('qwen3guard_request_duration_seconds_bucket{le="0.005",endpoint="/predict"} 0');
      expect(text).toContain('qwen3guard_request_duration_seconds_bucket{le="60",endpoint="/predict"} 1');
    });

    it("lists prom-client's default metrics under their real names and types (no prefix)", async () => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const json = await registry.getMetricsAsJSON();
      const byName = new Map(json.map((m) => [m.name, String(m.type)]));
      for (const m of Object.values(DEFAULT_METRICS)) {
        expect({ name: m.name, type: byName.get(m.name) }).toEqual({ name: m.name, type: m.type });
      }
    });
  });
});
