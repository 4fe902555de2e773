import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EngineErrorCode, DEFAULT_BATCHING } from '../inference';
import { METRICS, MetricDefinition, MetricKey } from './metric-names';

/**
 * The prom-client instruments of the service, built from the definitions in metric-names.ts (the only
 * place a name, help text, label list or bucket list is written).
 *
 * One registry per application (not prom-client's global one): two applications in one process (tests,
 * benchmarks) never share or collide on series. The registry also holds prom-client's default process and
 * Node.js metrics, without prefix (`process_cpu_seconds_total`, `process_resident_memory_bytes`, ...).
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

type Labels<D extends MetricDefinition> = D['labelNames'][number];

function assertType(def: MetricDefinition, type: MetricDefinition['type']): void {
  if (def.type !== type) throw new Error(`${def.name} is a ${def.type}, not a ${type}`);
}

/** A counter exactly as defined; `registry` null creates it unregistered (to register later). */
export function counterFor<D extends MetricDefinition>(def: D, registry: Registry | null): Counter<Labels<D>> {
  assertType(def, 'counter');
  return new Counter({ name: def.name, help: def.help, labelNames: [...def.labelNames] as Labels<D>[], registers: registry ? [registry] : [] });
}

export function gaugeFor<D extends MetricDefinition>(def: D, registry: Registry | null): Gauge<Labels<D>> {
  assertType(def, 'gauge');
  return new Gauge({ name: def.name, help: def.help, labelNames: [...def.labelNames] as Labels<D>[], registers: registry ? [registry] : [] });
}

export function histogramFor<D extends MetricDefinition>(def: D, registry: Registry | null): Histogram<Labels<D>> {
  assertType(def, 'histogram');
  if (!def.buckets) throw new Error(`${def.name} has no buckets`);
  return new Histogram({
    name: def.name,
    help: def.help,
    labelNames: [...def.labelNames] as Labels<D>[],
    buckets: [...def.buckets],
    registers: registry ? [registry] : [],
  });
}

/**
 * Catalogue entries this service does not produce (yet), with the reason. Everything else in METRICS is
 * registered at start, except the CUDA-only GPU gauges (see gpu-metrics.ts) and the model load time
 * (registered once a load finished: before that there is no value to report).
 */
export const NOT_PRODUCED: Readonly<Partial<Record<MetricKey, string>>> = {};

/** Every instrument the service updates, registered in catalogue order. */
export class ServiceMetrics {
  readonly requestCount;
  readonly requestDuration;
  readonly queueWait;
  readonly prefill;
  readonly decode;
  readonly tokens;
  readonly batchSize;
  readonly queueDepth;
  readonly queueCapacity;
  readonly inflightRequests;
  readonly prefixCacheHits;
  readonly prefixCacheLookups;
  readonly verdicts;
  readonly engineErrors;
  readonly usageLedgerErrors;
  readonly rateLimitFallbacks;
  readonly streamSessions;
  readonly streamChecks;
  readonly streamTokens;
  readonly streamEvictions;
  readonly modelInfo;
  readonly modelReady;
  readonly demoModel;
  /** Registered on the first finished load (see {@link markModelLoaded}). */
  readonly modelLoad;

  constructor(
    readonly registry: Registry,
    /** Whether the configured model is the demo model: known before it loads. */
    configuredDemo: boolean,
    /** The engine queue's bound (QWEN3GUARD_MAX_QUEUE): saturation is depth / capacity. */
    queueCapacity = DEFAULT_BATCHING.maxQueue,
  ) {
    this.requestCount = counterFor(METRICS.requestCount, registry);
    this.requestDuration = histogramFor(METRICS.requestDuration, registry);
    this.queueWait = histogramFor(METRICS.queueWait, registry);
    this.prefill = histogramFor(METRICS.prefill, registry);
    this.decode = histogramFor(METRICS.decode, registry);
    this.tokens = counterFor(METRICS.tokens, registry);
    this.batchSize = histogramFor(METRICS.batchSize, registry);
    this.queueDepth = gaugeFor(METRICS.queueDepth, registry);
    this.queueCapacity = gaugeFor(METRICS.queueCapacity, registry);
    this.queueCapacity.set(queueCapacity);
    this.inflightRequests = gaugeFor(METRICS.inflightRequests, registry);
    this.prefixCacheHits = counterFor(METRICS.prefixCacheHits, registry);
    this.prefixCacheLookups = counterFor(METRICS.prefixCacheLookups, registry);
    this.verdicts = counterFor(METRICS.verdicts, registry);
    this.engineErrors = counterFor(METRICS.engineErrors, registry);
    this.usageLedgerErrors = counterFor(METRICS.usageLedgerErrors, registry);
    this.rateLimitFallbacks = counterFor(METRICS.rateLimitFallbacks, registry);
    this.streamSessions = gaugeFor(METRICS.streamSessions, registry);
    this.streamChecks = counterFor(METRICS.streamChecks, registry);
    this.streamTokens = counterFor(METRICS.streamTokens, registry);
    this.streamEvictions = counterFor(METRICS.streamEvictions, registry);
    this.modelInfo = gaugeFor(METRICS.modelInfo, registry);
    this.modelReady = gaugeFor(METRICS.modelReady, registry);
    this.demoModel = gaugeFor(METRICS.demoModel, registry);
    this.modelLoad = gaugeFor(METRICS.modelLoad, null);

    // Label values known in advance start at 0, so rate() sees the first increase (and the dashboards show
    // 0 rather than "no data"). Verdicts and tokens are not pre-filled: they carry the tenant, known later.
    for (const code of Object.values(EngineErrorCode)) this.engineErrors.inc({ code }, 0);
    this.demoModel.set(configuredDemo ? 1 : 0);
  }

  markModelLoaded(seconds: number): void {
    if (!this.registry.getSingleMetric(METRICS.modelLoad.name)) this.registry.registerMetric(this.modelLoad);
    this.modelLoad.set(seconds);
  }
}
