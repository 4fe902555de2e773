import { Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { Registry } from 'prom-client';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { sampleRegistry } from './registry-sample';
import { SampleWindow, statsBetween, WindowStats } from './stats-window';

/** The rolling window: about a minute, as a live panel shows it. */
const WINDOW_MS = 60_000;
/** Polls closer together than this share one kept sample. */
const SAMPLE_SPACING_MS = 1_000;

/**
 * Request rate, latency and verdict mix over the last minute, from the metrics registry MetricsModule
 * provides (absent with METRICS_MODE=off). Counts only: no text, no key, no label beyond the verdict level.
 */
@Injectable()
export class LiveStatsService implements OnModuleInit {
  private readonly window = new SampleWindow(WINDOW_MS, SAMPLE_SPACING_MS);

  constructor(@Optional() private readonly registry?: Registry) {}

  /** The first sample, taken before anything is served: the baseline of the first minute. */
  async onModuleInit(): Promise<void> {
    if (this.registry) this.window.advance(await sampleRegistry(this.registry, performance.now()));
  }

  async current(): Promise<WindowStats> {
    if (!this.registry) throw new ApiException(ErrorCode.NotFound, 'live stats come from the metrics, which are off (METRICS_MODE=off)');
    const sample = await sampleRegistry(this.registry, performance.now());
    return statsBetween(this.window.advance(sample), sample);
  }
}
