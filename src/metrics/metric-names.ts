/**
 * The one catalogue of every Prometheus series this service exposes or its monitoring refers to.
 *
 * Everything that names a metric reads it from here or is checked against it:
 *  - the MetricsModule registers its prom-client metrics from these definitions (name, help, labels, buckets);
 *  - config/prometheus/alerts.yml and the Grafana dashboards (tools/dashboards) are checked by tests that
 *    every metric they mention is defined below or is an external series (node exporter, DCGM, `up`);
 *  - the seed tutorial's names (`qwen3guard_request_count_total`, `qwen3guard_request_duration_seconds`,
 *    `process_cpu_seconds_total`, `process_resident_memory_bytes`) are a public contract: never rename them.
 *
 * Plain constants only (no Nest, no prom-client), so the inference engine's observer, tools and tests can
 * import this file without pulling in a framework.
 *
 * Conventions (Prometheus naming): base units in the name (`_seconds`, `_bytes`, `_ratio`), counters end in
 * `_total`, every label has a small bounded set of values; never a raw URL, a user id, a request id or free
 * text in a label.
 *
 * The `tenant` label (on `qwen3guard_request_count_total`, `qwen3guard_verdicts_total` and
 * `qwen3guard_tokens_total` only) is bounded: a configured tenant's id for the first MAX_TENANT_LABELS tenants of
 * the tenants file, `other` beyond them, `anonymous` for requests without an identified tenant. Histograms carry
 * no tenant label. Every rule and dashboard aggregates with `sum by (...)` over explicit label lists, so the label
 * changes none of them.
 */
import { EngineErrorCode, RISK_CATEGORIES, SAFETY_LEVELS, MODEL_DTYPES } from '../inference';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  /** The exposed name; for a histogram the base name (Prometheus adds `_bucket`, `_sum`, `_count`). */
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Histogram bucket upper bounds in the metric's base unit, ascending (`+Inf` is implicit). */
  readonly buckets?: readonly number[];
  /** Who produces it: this service, or prom-client's default collectors (`collectDefaultMetrics()`). */
  readonly source: 'service' | 'prom-client-default';
  /** `cuda`: only registered while the CUDA execution provider runs the model; absent on CPU. */
  readonly presence?: 'always' | 'cuda';
}

// ---------------------------------------------------------------------------------------------------------
// Label names and bounded label values
// ---------------------------------------------------------------------------------------------------------

export const LABEL = {
  method: 'method',
  endpoint: 'endpoint',
  status: 'status',
  code: 'code',
  kind: 'kind',
  safetyLevel: 'safety_level',
  category: 'category',
  model: 'model',
  dtype: 'dtype',
  provider: 'provider',
  version: 'version',
  errorCode: 'code',
  tenant: 'tenant',
} as const;

/** `status` on the request counter: `error` for every response with HTTP status >= 400, `success` otherwise. */
export const REQUEST_STATUS = ['success', 'error'] as const;
export type RequestStatus = (typeof REQUEST_STATUS)[number];

/**
 * `endpoint` is the matched route template (`/predict`, `/v1/moderations`, `/health/ready`), never the raw URL.
 * A request that matches no route (404s, scanners) is recorded under this one fixed value.
 */
export const UNMATCHED_ENDPOINT = 'unmatched';

/**
 * Routes that serve probes, not users. They are still counted, but the SLO recording rules leave them out
 * (a flood of cheap, always-successful probes would dilute the SLIs). Health routes must live under `/health`.
 * A PromQL regex, used verbatim in config/prometheus/alerts.yml (a test checks that).
 */
export const NON_SLO_ENDPOINT_REGEX = '/health.*|/metrics';

/** `kind` on the token counter. `cached` counts prompt tokens whose KV came from the prefix cache (a subset of `prompt`). */
export const TOKEN_KINDS = ['prompt', 'cached', 'generated'] as const;

/** `kind` on the stream token counter. */
export const STREAM_TOKEN_KINDS = ['reused', 'computed'] as const;

/** `safety_level` on the verdict counter (lower case, as in the API response). */
export const VERDICT_SAFETY_LEVELS = SAFETY_LEVELS;

/** `category` on the verdict counter: the model's category names exactly as printed, plus `None` (no category listed). */
export const VERDICT_CATEGORIES = [...RISK_CATEGORIES, 'None'] as const;

/** `code` on the engine error counter: the engine's error codes. */
export const ENGINE_ERROR_CODES = Object.values(EngineErrorCode) as readonly string[];

/** `provider` on the model info gauge. */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda'] as const;

/** `dtype` on the model info gauge. */
export const MODEL_INFO_DTYPES = MODEL_DTYPES;

// ---------------------------------------------------------------------------------------------------------
// Histogram buckets (seconds unless noted)
// ---------------------------------------------------------------------------------------------------------

/** The latency SLO threshold: must be a bucket edge of the request duration histogram (and is: see the spec). */
export const LATENCY_SLO_THRESHOLD_SECONDS = 2;

/** About 5 ms to 60 s, with an edge at the 2 s SLO/alert threshold. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30, 60] as const;

/** Time a request waits in the batcher queue before its batch starts. */
export const QUEUE_WAIT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

/** One forward pass over a batch's prompts (prefill) or its whole greedy decode loop. */
export const ENGINE_STEP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60] as const;

/** Requests per executed batch (a count, not seconds). */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64] as const;

// ---------------------------------------------------------------------------------------------------------
// The service's own series
// ---------------------------------------------------------------------------------------------------------

const svc = { source: 'service' } as const;

export const METRICS = {
  // --- HTTP (the seed tutorial's contract) -------------------------------------------------------------
  requestCount: {
    ...svc,
    name: 'qwen3guard_request_count_total',
    type: 'counter',
    help: 'Total number of prediction requests',
    labelNames: [LABEL.method, LABEL.endpoint, LABEL.status, LABEL.code, LABEL.tenant],
  },
  requestDuration: {
    ...svc,
    name: 'qwen3guard_request_duration_seconds',
    type: 'histogram',
    help: 'Request latency in seconds',
    labelNames: [LABEL.endpoint],
    buckets: REQUEST_DURATION_BUCKETS,
  },

  // --- Engine: queue, batches, timings ------------------------------------------------------------------
  queueWait: {
    ...svc,
    name: 'qwen3guard_queue_wait_seconds',
    type: 'histogram',
    help: 'Time a moderation request waited in the batching queue before its batch started, in seconds',
    labelNames: [],
    buckets: QUEUE_WAIT_BUCKETS,
  },
  prefill: {
    ...svc,
    name: 'qwen3guard_prefill_seconds',
    type: 'histogram',
    help: 'Duration of the prompt forward pass (prefill) of one batch, in seconds',
    labelNames: [],
    buckets: ENGINE_STEP_BUCKETS,
  },
  decode: {
    ...svc,
    name: 'qwen3guard_decode_seconds',
    type: 'histogram',
    help: 'Duration of the greedy decode loop of one batch after prefill, in seconds',
    labelNames: [],
    buckets: ENGINE_STEP_BUCKETS,
  },
  tokens: {
    ...svc,
    name: 'qwen3guard_tokens_total',
    type: 'counter',
    help: 'Tokens processed by the engine, by kind (prompt, cached = prompt tokens served from the prefix cache, generated)',
    labelNames: [LABEL.kind, LABEL.tenant],
  },
  batchSize: {
    ...svc,
    name: 'qwen3guard_batch_size',
    type: 'histogram',
    help: 'Number of moderation inputs per executed batch',
    labelNames: [],
    buckets: BATCH_SIZE_BUCKETS,
  },
  queueDepth: {
    ...svc,
    name: 'qwen3guard_queue_depth',
    type: 'gauge',
    help: 'Moderation inputs waiting in the batching queue',
    labelNames: [],
  },
  queueCapacity: {
    ...svc,
    name: 'qwen3guard_queue_capacity',
    type: 'gauge',
    help: 'Maximum number of inputs the batching queue accepts before rejecting (saturation denominator)',
    labelNames: [],
  },
  inflightRequests: {
    ...svc,
    name: 'qwen3guard_inflight_requests',
    type: 'gauge',
    help: 'HTTP requests currently being handled',
    labelNames: [],
  },

  // --- Prefix cache ------------------------------------------------------------------------------------
  prefixCacheHits: {
    ...svc,
    name: 'qwen3guard_prefix_cache_hits_total',
    type: 'counter',
    help: 'Prefix cache lookups that found a reusable KV prefix',
    labelNames: [],
  },
  prefixCacheLookups: {
    ...svc,
    name: 'qwen3guard_prefix_cache_lookups_total',
    type: 'counter',
    help: 'Prefix cache lookups (hits and misses)',
    labelNames: [],
  },

  // --- Verdicts and errors -----------------------------------------------------------------------------
  verdicts: {
    ...svc,
    name: 'qwen3guard_verdicts_total',
    type: 'counter',
    // Counted exactly once per verdict, so `sum by (safety_level)` gives true verdict counts. `category` is
    // the first category the model lists (its primary one); `None` when it lists none (safe verdicts).
    help: 'Moderation verdicts returned, by safety level and primary (first listed) category; category="None" when the model lists none',
    labelNames: [LABEL.safetyLevel, LABEL.category, LABEL.tenant],
  },
  engineErrors: {
    ...svc,
    name: 'qwen3guard_engine_errors_total',
    type: 'counter',
    help: 'Engine failures by engine error code',
    labelNames: [LABEL.errorCode],
  },
  usageLedgerErrors: {
    ...svc,
    name: 'qwen3guard_usage_ledger_errors_total',
    type: 'counter',
    help: 'Requests refused with 503 USAGE_LEDGER_UNAVAILABLE because the usage ledger could not record them',
    labelNames: [],
  },
  rateLimitFallbacks: {
    ...svc,
    name: 'qwen3guard_rate_limit_fallbacks_total',
    type: 'counter',
    help: "Requests rate-limited by this replica's own memory because Redis (QWEN3GUARD_REDIS_URL) did not answer",
    labelNames: [],
  },

  // --- Streaming moderation ----------------------------------------------------------------------------
  streamSessions: {
    ...svc,
    name: 'qwen3guard_stream_sessions_open',
    type: 'gauge',
    help: 'Moderation streams open',
    labelNames: [],
  },
  streamChecks: {
    ...svc,
    name: 'qwen3guard_stream_checks_total',
    type: 'counter',
    help: 'Verdicts given on streamed answers',
    labelNames: [],
  },
  streamTokens: {
    ...svc,
    name: 'qwen3guard_stream_tokens_total',
    type: 'counter',
    help: 'Prompt positions of stream checks: reused from the stream KV cache, or computed',
    labelNames: [LABEL.kind],
  },
  streamEvictions: {
    ...svc,
    name: 'qwen3guard_stream_evictions_total',
    type: 'counter',
    help: 'Stream KV caches dropped to stay within STREAM_MAX_KV_TOKENS (the next check recomputes)',
    labelNames: [],
  },

  // --- Model lifecycle ---------------------------------------------------------------------------------
  modelLoad: {
    ...svc,
    name: 'qwen3guard_model_load_seconds',
    type: 'gauge',
    help: 'Seconds the last model load (including warm-up) took',
    labelNames: [],
  },
  modelInfo: {
    ...svc,
    name: 'qwen3guard_model_info',
    type: 'gauge',
    help: 'The model being served (value is always 1): model id, weight dtype, execution provider, service version',
    labelNames: [LABEL.model, LABEL.dtype, LABEL.provider, LABEL.version],
  },
  modelReady: {
    ...svc,
    name: 'qwen3guard_model_ready',
    type: 'gauge',
    help: '1 when the model is loaded and warmed up and requests can be served, else 0',
    labelNames: [],
  },
  demoModel: {
    ...svc,
    name: 'qwen3guard_demo_model',
    type: 'gauge',
    help: '1 while the built-in synthetic demo model serves (its verdicts are not real moderation), else 0',
    labelNames: [],
  },

  // --- GPU (registered only when the CUDA execution provider runs the model) ---------------------------
  gpuMemoryUsed: {
    ...svc,
    presence: 'cuda',
    name: 'qwen3guard_gpu_memory_used_bytes',
    type: 'gauge',
    help: 'GPU memory in use on the device running the model, in bytes',
    labelNames: [],
  },
  gpuMemoryTotal: {
    ...svc,
    presence: 'cuda',
    name: 'qwen3guard_gpu_memory_total_bytes',
    type: 'gauge',
    help: 'Total GPU memory of the device running the model, in bytes',
    labelNames: [],
  },
  gpuUtilization: {
    ...svc,
    presence: 'cuda',
    name: 'qwen3guard_gpu_utilization_ratio',
    type: 'gauge',
    help: 'GPU utilisation of the device running the model, 0 to 1',
    labelNames: [],
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

// ---------------------------------------------------------------------------------------------------------
// prom-client default metrics we refer to (collectDefaultMetrics() with NO prefix: the names below must stay)
// ---------------------------------------------------------------------------------------------------------

const dflt = { source: 'prom-client-default' } as const;

export const DEFAULT_METRICS = {
  processCpu: {
    ...dflt,
    name: 'process_cpu_seconds_total',
    type: 'counter',
    help: 'Total user and system CPU time spent in seconds.',
    labelNames: [],
  },
  processResidentMemory: {
    ...dflt,
    name: 'process_resident_memory_bytes',
    type: 'gauge',
    help: 'Resident memory size in bytes.',
    labelNames: [],
  },
  processStartTime: {
    ...dflt,
    name: 'process_start_time_seconds',
    type: 'gauge',
    help: 'Start time of the process since unix epoch in seconds.',
    labelNames: [],
  },
  processOpenFds: {
    ...dflt,
    name: 'process_open_fds',
    type: 'gauge',
    help: 'Number of open file descriptors.',
    labelNames: [],
  },
  processMaxFds: {
    ...dflt,
    name: 'process_max_fds',
    type: 'gauge',
    help: 'Maximum number of open file descriptors.',
    labelNames: [],
  },
  eventLoopLagP99: {
    ...dflt,
    name: 'nodejs_eventloop_lag_p99_seconds',
    type: 'gauge',
    help: 'The 99th percentile of the recorded event loop delays.',
    labelNames: [],
  },
  gcDuration: {
    ...dflt,
    name: 'nodejs_gc_duration_seconds',
    type: 'histogram',
    help: 'Garbage collection duration by kind, one of major, minor, incremental or weakcb.',
    labelNames: ['kind'],
    buckets: [0.001, 0.01, 0.1, 1, 2, 5],
  },
  heapUsed: {
    ...dflt,
    name: 'nodejs_heap_size_used_bytes',
    type: 'gauge',
    help: 'Process heap size used from Node.js in bytes.',
    labelNames: [],
  },
  heapTotal: {
    ...dflt,
    name: 'nodejs_heap_size_total_bytes',
    type: 'gauge',
    help: 'Process heap size from Node.js in bytes.',
    labelNames: [],
  },
  externalMemory: {
    ...dflt,
    name: 'nodejs_external_memory_bytes',
    type: 'gauge',
    help: 'Node.js external memory size in bytes.',
    labelNames: [],
  },
} as const satisfies Record<string, MetricDefinition>;

/** Every series definition above, service first. */
export const ALL_METRICS: readonly MetricDefinition[] = [...Object.values(METRICS), ...Object.values(DEFAULT_METRICS)];

// ---------------------------------------------------------------------------------------------------------
// External series (not produced by this service) that rules and dashboards may use
// ---------------------------------------------------------------------------------------------------------

/**
 * Prefixes of series from other exporters: node exporter (`node_`), DCGM exporter (`DCGM_`), any
 * prom-client/process default not listed above (`process_`, `nodejs_`).
 */
export const EXTERNAL_METRIC_PREFIXES = ['node_', 'process_', 'nodejs_', 'DCGM_'] as const;

/** Series Prometheus itself synthesises for every target or rule. */
export const EXTERNAL_METRIC_NAMES = ['up', 'scrape_duration_seconds', 'scrape_samples_scraped', 'ALERTS', 'ALERTS_FOR_STATE'] as const;

// ---------------------------------------------------------------------------------------------------------
// Scrape jobs and target labels
// ---------------------------------------------------------------------------------------------------------

/** Prometheus job names (the seed tutorial's; never rename). */
export const JOB = { service: 'qwen3guard-gen-web', nodeExporter: 'node-exporter' } as const;

/** The port that serves /metrics (the HTTP API is on 8080). */
export const METRICS_PORT = 8000;

/**
 * Target labels the scrape configuration (not the service) attaches:
 *  - `environment="production"` marks a production target; DemoModelServing fires only there.
 *  - `host` names the machine, so process metrics can be joined with node exporter metrics of the same host.
 */
export const TARGET_LABEL = { environment: 'environment', host: 'host' } as const;
export const PRODUCTION_ENVIRONMENT = 'production';

// ---------------------------------------------------------------------------------------------------------
// Service level objectives (the burn-rate alerts in config/prometheus/alerts.yml are derived from these)
// ---------------------------------------------------------------------------------------------------------

export const SLO = {
  /** Share of valid requests (all but 4xx and probes) answered without a server-side error (status="error", code not 4xx). */
  availability: 0.995,
  /** Share of requests (all but probes) answered within LATENCY_SLO_THRESHOLD_SECONDS. */
  latency: 0.99,
  /** Rolling window the budgets are defined over. */
  windowDays: 30,
} as const;

/** Multi-window, multi-burn-rate alert pairs (burn rate x long window AND short window). */
export const BURN_RATE_WINDOWS = [
  { severity: 'critical', burnRate: 14.4, long: '1h', short: '5m' },
  { severity: 'critical', burnRate: 6, long: '6h', short: '30m' },
  { severity: 'warning', burnRate: 3, long: '1d', short: '2h' },
  { severity: 'warning', burnRate: 1, long: '3d', short: '6h' },
] as const;

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** The series names a definition produces in the exposition format. */
export function exposedSeriesNames(def: MetricDefinition): string[] {
  if (def.type === 'histogram') return [`${def.name}_bucket`, `${def.name}_sum`, `${def.name}_count`];
  return [def.name];
}

const knownSeries = new Set(ALL_METRICS.flatMap(exposedSeriesNames));

/** True for a series name this file defines (any histogram series counts) or an external one. */
export function isKnownMetricName(name: string): boolean {
  if (knownSeries.has(name)) return true;
  if ((EXTERNAL_METRIC_NAMES as readonly string[]).includes(name)) return true;
  return EXTERNAL_METRIC_PREFIXES.some((prefix) => name.startsWith(prefix));
}

/** True for a series name this file defines (not an external one). */
export function isDefinedMetricName(name: string): boolean {
  return knownSeries.has(name);
}
