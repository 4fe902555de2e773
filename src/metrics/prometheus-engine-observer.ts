import { EngineErrorCode, BatchReport, EngineObserver, ModelInfo } from '../inference';
import { ServiceMetrics } from './service-metrics';

/** Starts and stops GPU sampling; see gpu-metrics.ts. */
export interface GpuMonitor {
  start(): void;
  stop(): Promise<void>;
}

/**
 * The engine's reports as Prometheus series. Every value comes from the engine; nothing is estimated here.
 * GPU sampling runs only while a model is served on the CUDA execution provider.
 */
export class PrometheusEngineObserver extends EngineObserver {
  constructor(
    private readonly metrics: ServiceMetrics,
    /** The service version, for qwen3guard_model_info. */
    private readonly version: string,
    private readonly gpu?: GpuMonitor,
  ) {
    super();
  }

  queueDepth(depth: number): void {
    this.metrics.queueDepth.set(depth);
  }

  queueWait(seconds: number): void {
    this.metrics.queueWait.observe(seconds);
  }

  batchExecuted(batch: BatchReport): void {
    const m = this.metrics;
    m.batchSize.observe(batch.size);
    m.prefill.observe(batch.prefillSeconds);
    m.decode.observe(batch.decodeSeconds);
  }

  prefixCacheLookup(hit: boolean): void {
    this.metrics.prefixCacheLookups.inc();
    if (hit) this.metrics.prefixCacheHits.inc();
  }

  engineError(code: EngineErrorCode): void {
    this.metrics.engineErrors.inc({ code });
  }

  modelLoaded(info: ModelInfo, loadSeconds: number): void {
    const m = this.metrics;
    m.modelInfo.reset();
    m.modelInfo.set({ model: info.id, dtype: info.dtype, provider: info.provider, version: this.version }, 1);
    m.demoModel.set(info.demo ? 1 : 0);
    m.markModelLoaded(loadSeconds);
    m.modelReady.set(1);
    if (info.provider === 'cuda') this.gpu?.start();
  }

  modelUnloaded(): void {
    this.metrics.modelReady.set(0);
    this.metrics.modelInfo.reset();
    void this.gpu?.stop();
  }
}
