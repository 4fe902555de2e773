import { Registry } from 'prom-client';
import { EngineErrorCode, ModelInfo } from '../inference';
import { METRICS } from './metric-names';
import { GpuMonitor, PrometheusEngineObserver } from './prometheus-engine-observer';
import { ServiceMetrics } from './service-metrics';

const INFO: ModelInfo = { id: 'qwen3guard-gen-demo', dtype: 'fp32', provider: 'cpu', demo: true, directory: '/cache/demo' };

describe('PrometheusEngineObserver', () => {
  let metrics: ServiceMetrics;
  let gpu: jest.Mocked<GpuMonitor>;
  let observer: PrometheusEngineObserver;

  /** The exposed samples of one metric as `labels -> value`, histograms by series name. */
  const values = async (name: string) => {
    const metric = await metrics.registry.getSingleMetric(name)?.get();
    return Object.fromEntries(
      (metric?.values ?? []).map((v: { metricName?: string; labels: object; value: number }) => [
        [v.metricName ?? name, ...Object.entries(v.labels).map(([k, l]) => `${k}=${l}`)].join(' '),
        v.value,
      ]),
    );
  };

  beforeEach(() => {
    metrics = new ServiceMetrics(new Registry(), false);
    gpu = { start: jest.fn(), stop: jest.fn().mockResolvedValue(undefined) };
    observer = new PrometheusEngineObserver(metrics, '9.8.7', gpu);
  });

  it('records a batch: size, prefill and decode time (tokens are counted per tenant by the usage meter)', async () => {
    observer.batchExecuted({ size: 1, prefillSeconds: 0.3, decodeSeconds: 0.2, promptTokens: 300, cachedTokens: 0, generatedTokens: 7 });
    observer.batchExecuted({ size: 2, prefillSeconds: 0.5, decodeSeconds: 0.1, promptTokens: 100, cachedTokens: 40, generatedTokens: 5 });
    expect(await values(METRICS.tokens.name)).toEqual({});
    const batch = await values(METRICS.batchSize.name);
    expect(batch[`${METRICS.batchSize.name}_count`]).toBe(2);
    expect(batch[`${METRICS.batchSize.name}_sum`]).toBe(3);
    expect(batch[`${METRICS.batchSize.name}_bucket le=1`]).toBe(1);
    expect((await values(METRICS.prefill.name))[`${METRICS.prefill.name}_sum`]).toBeCloseTo(0.8);
    expect((await values(METRICS.decode.name))[`${METRICS.decode.name}_sum`]).toBeCloseTo(0.3);
  });

  it('starts every engine error code at 0', async () => {
    const errors = await values(METRICS.engineErrors.name);
    expect(Object.keys(errors)).toHaveLength(Object.values(EngineErrorCode).length);
    expect(Object.values(errors).every((v) => v === 0)).toBe(true);
  });

  it('follows the queue: depth as reported, one wait per input', async () => {
    observer.queueDepth(3);
    expect(await values(METRICS.queueDepth.name)).toEqual({ [METRICS.queueDepth.name]: 3 });
    observer.queueDepth(0);
    observer.queueWait(0.002);
    observer.queueWait(0.2);
    expect(await values(METRICS.queueDepth.name)).toEqual({ [METRICS.queueDepth.name]: 0 });
    const wait = await values(METRICS.queueWait.name);
    expect(wait[`${METRICS.queueWait.name}_count`]).toBe(2);
    expect(wait[`${METRICS.queueWait.name}_bucket le=0.0025`]).toBe(1);
  });

  it('counts engine errors by code and prefix-cache lookups and hits', async () => {
    observer.engineError(EngineErrorCode.InputTooLong);
    observer.engineError(EngineErrorCode.InputTooLong);
    observer.engineError(EngineErrorCode.ModelNotReady);
    const errors = await values(METRICS.engineErrors.name);
    expect(errors[`${METRICS.engineErrors.name} code=INPUT_TOO_LONG`]).toBe(2);
    expect(errors[`${METRICS.engineErrors.name} code=MODEL_NOT_READY`]).toBe(1);
    observer.prefixCacheLookup(true);
    observer.prefixCacheLookup(false);
    expect(await values(METRICS.prefixCacheLookups.name)).toEqual({ [METRICS.prefixCacheLookups.name]: 2 });
    expect(await values(METRICS.prefixCacheHits.name)).toEqual({ [METRICS.prefixCacheHits.name]: 1 });
  });

  it('publishes the model on load and withdraws it on unload', async () => {
    expect(await values(METRICS.modelReady.name)).toEqual({ [METRICS.modelReady.name]: 0 });
    expect(await values(METRICS.modelInfo.name)).toEqual({});
    expect(metrics.registry.getSingleMetric(METRICS.modelLoad.name)).toBeUndefined();

    observer.modelLoaded(INFO, 2.5);
    expect(await values(METRICS.modelInfo.name)).toEqual({
      [`${METRICS.modelInfo.name} model=qwen3guard-gen-demo dtype=fp32 provider=cpu version=9.8.7`]: 1,
    });
    expect(await values(METRICS.modelReady.name)).toEqual({ [METRICS.modelReady.name]: 1 });
    expect(await values(METRICS.demoModel.name)).toEqual({ [METRICS.demoModel.name]: 1 });
    expect(await values(METRICS.modelLoad.name)).toEqual({ [METRICS.modelLoad.name]: 2.5 });
    expect(gpu.start).not.toHaveBeenCalled();

    observer.modelUnloaded();
    expect(await values(METRICS.modelReady.name)).toEqual({ [METRICS.modelReady.name]: 0 });
    expect(await values(METRICS.modelInfo.name)).toEqual({});
    expect(gpu.stop).toHaveBeenCalled();
  });

  it('starts GPU sampling only for a model on the CUDA provider', () => {
    observer.modelLoaded({ ...INFO, provider: 'cuda', demo: false }, 1);
    expect(gpu.start).toHaveBeenCalledTimes(1);
  });

  it('keeps one model_info series when a model is loaded again', async () => {
    observer.modelLoaded(INFO, 1);
    observer.modelLoaded({ ...INFO, id: 'other', dtype: 'fp16', demo: false }, 3);
    expect(Object.keys(await values(METRICS.modelInfo.name))).toEqual([`${METRICS.modelInfo.name} model=other dtype=fp16 provider=cpu version=9.8.7`]);
    expect(await values(METRICS.demoModel.name)).toEqual({ [METRICS.demoModel.name]: 0 });
    expect(await values(METRICS.modelLoad.name)).toEqual({ [METRICS.modelLoad.name]: 3 });
  });
});
