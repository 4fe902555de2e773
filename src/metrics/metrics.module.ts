import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Optional, Provider } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { Registry } from 'prom-client';
import { AppConfig } from '../config/app-config';
import { EngineObserver, NOOP_ENGINE_OBSERVER } from '../inference';
import { gpuDeviceSelector, GpuGauges, GpuSampler, nvidiaSmiQuery } from './gpu-metrics';
import { MetricsController } from './metrics.controller';
import { METRICS_PATH, MetricsServer } from './metrics-server';
import { PrometheusEngineObserver } from './prometheus-engine-observer';
import { createMetricsRegistry, ServiceMetrics } from './service-metrics';
import { serviceVersion } from './service-version';

/** Starts the separate metrics listener with the application and closes it, and GPU sampling, with it. */
@Injectable()
export class MetricsLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly config: AppConfig,
    private readonly gpu: GpuSampler,
    @Optional() @Inject(MetricsServer) private readonly server?: MetricsServer,
  ) {}

  /** `http://HOST:PORT/metrics` of the separate listener once it listens; undefined otherwise. */
  get url(): string | undefined {
    const address = this.server?.address;
    return address ? `http://${this.config.HOST}:${address.port}${METRICS_PATH}` : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.server) return;
    const { HOST, METRICS_PORT } = this.config;
    try {
      await this.server.listen(METRICS_PORT, HOST);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`the metrics listener could not listen on ${HOST}:${METRICS_PORT} (METRICS_PORT): ${reason}`, { cause: error });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.gpu.stop();
    await this.server?.close();
  }
}

/**
 * Prometheus metrics: the instruments (from metric-names.ts), the engine observer, the HTTP request
 * hooks' instruments (src/http/request-metrics.ts), GPU sampling on CUDA, and where /metrics is served (METRICS_MODE):
 *  - `separate` (default): a dedicated listener on METRICS_PORT (MetricsServer); the API port has no /metrics.
 *  - `same-port`: /metrics on the API port through @willsoto/nestjs-prometheus's PrometheusModule with
 *    {@link MetricsController}. The library is imported in this mode only, so its controller (and route)
 *    exists only here.
 *  - `off`: nothing is measured or served; the engine gets the no-op observer.
 * Global so that the engine provider and the library's controller can inject what it exports.
 */
@Module({})
export class MetricsModule {
  static forRoot(config: AppConfig): DynamicModule {
    if (config.METRICS_MODE === 'off') {
      return { module: MetricsModule, global: true, providers: [{ provide: EngineObserver, useValue: NOOP_ENGINE_OBSERVER }], exports: [EngineObserver] };
    }
    const providers: Provider[] = [
      { provide: Registry, useFactory: createMetricsRegistry },
      {
        provide: ServiceMetrics,
        inject: [Registry, AppConfig],
        useFactory: (registry: Registry, c: AppConfig) => new ServiceMetrics(registry, c.usesDemoModel, c.QWEN3GUARD_MAX_QUEUE),
      },
      {
        provide: GpuSampler,
        inject: [Registry, AppConfig],
        useFactory: (registry: Registry, c: AppConfig) =>
          new GpuSampler(new GpuGauges(registry), nvidiaSmiQuery(gpuDeviceSelector(c.CUDA_VISIBLE_DEVICES)), new Logger('GpuMetrics')),
      },
      {
        provide: EngineObserver,
        inject: [ServiceMetrics, GpuSampler],
        useFactory: (metrics: ServiceMetrics, gpu: GpuSampler) => new PrometheusEngineObserver(metrics, serviceVersion(), gpu),
      },
      MetricsLifecycle,
    ];
    const imports: DynamicModule[] = [];
    if (config.METRICS_MODE === 'separate') {
      providers.push({ provide: MetricsServer, inject: [Registry], useFactory: (registry: Registry) => new MetricsServer(registry) });
    } else {
      imports.push(PrometheusModule.register({ controller: MetricsController, path: METRICS_PATH, defaultMetrics: { enabled: false } }));
    }
    return { module: MetricsModule, global: true, imports, providers, exports: [Registry, ServiceMetrics, EngineObserver] };
  }
}

/** Where the metrics are, for the start banner. */
export function describeMetricsEndpoint(app: INestApplicationContext, config: AppConfig): string {
  switch (config.METRICS_MODE) {
    case 'off':
      return 'metrics off (METRICS_MODE=off)';
    case 'same-port':
      return `metrics at http://${config.HOST}:${config.PORT}${METRICS_PATH} (METRICS_MODE=same-port)`;
    default:
      return `metrics at ${app.get(MetricsLifecycle).url ?? `http://${config.HOST}:${config.METRICS_PORT}${METRICS_PATH}`}`;
  }
}
