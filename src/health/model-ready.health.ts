import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { ModerationEngine } from '../inference';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { EngineLoader } from '../moderation/engine-loader.service';
import { configuredModel } from '../composition/configured-model';

/**
 * Up only once the engine reports ready (model loaded and warm-up passed), and down again once shutdown
 * began. Reports what actually serves when up, and what was asked for, with the load state, while down.
 */
@Injectable()
export class ModelReadyHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly engine: ModerationEngine,
    private readonly loader: EngineLoader,
    private readonly config: AppConfig,
    private readonly shutdown: ShutdownState,
  ) {}

  isReady(key = 'model'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    // A draining instance must leave the load balancer's rotation even though its model still works.
    if (this.shutdown.draining) return indicator.down({ ...configuredModel(this.config), state: 'shutting-down' });
    if (!this.engine.ready) {
      // Loaded but not ready: an inference is past its deadline (QWEN3GUARD_INFERENCE_TIMEOUT_MS) and still running.
      const state = this.loader.state === 'ready' ? 'stalled' : this.loader.state;
      // A failed load says why (code and reason, no paths): a probe's reader learns that waiting will not help.
      return indicator.down({ ...configuredModel(this.config), state, ...this.loader.failure });
    }
    const { id, provider, dtype, demo } = this.engine.info;
    return indicator.up({ id, provider, dtype, demo });
  }
}
