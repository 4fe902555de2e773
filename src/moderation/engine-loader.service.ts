import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ModerationEngine } from '../inference';
import { configuredModel, DEMO_MODEL_WARNING } from '../composition/configured-model';
import { LoadFailure, loadFailureOf } from './load-failure';

export type LoadState = 'loading' | 'ready' | 'failed';

/**
 * Loads the engine in the background once the application is up, and closes it on shutdown. A failed load
 * is kept with its reason: every moderation call and /health/ready say it (503 MODEL_INVALID), and with
 * NODE_ENV=production the entry point exits on it (see main.ts).
 */
@Injectable()
export class EngineLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineLoader');
  private loading: Promise<void> = Promise.resolve();
  private current: LoadState = 'loading';
  private failed?: LoadFailure;

  constructor(
    private readonly engine: ModerationEngine,
    private readonly config: AppConfig,
  ) {}

  get state(): LoadState {
    return this.current;
  }

  /** Why the load failed; undefined while loading or once ready. */
  get failure(): LoadFailure | undefined {
    return this.failed;
  }

  /** Settles once the load has succeeded or failed (never rejects). */
  get settled(): Promise<void> {
    return this.loading;
  }

  onApplicationBootstrap(): void {
    // Not awaited: a large model takes minutes, and the server must listen (answering 503) meanwhile.
    this.loading = this.load();
  }

  async onApplicationShutdown(): Promise<void> {
    // Closing mid-load would leave the session that the load is still opening behind; let it settle.
    await this.loading;
    await this.engine.close();
  }

  private async load(): Promise<void> {
    const started = performance.now();
    try {
      await this.engine.load();
      this.current = 'ready';
      const { id, provider, dtype, demo } = this.engine.info;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      this.logger.log(`model ${id} ready on ${provider} (${dtype}) after ${seconds} s`);
      if (demo) this.logger.warn(DEMO_MODEL_WARNING);
    } catch (error) {
      this.failed = loadFailureOf(error);
      this.current = 'failed';
      const outcome =
        this.config.NODE_ENV === 'production'
          ? 'exiting: with NODE_ENV=production the service does not run without a model'
          : `the service stays up, answering 503 ${this.failed.code} on /health/ready and every moderation call, until it is restarted with a working model`;
      // The operators' line keeps the whole message, paths included, on one line.
      const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
      this.logger.error(`model ${configuredModel(this.config).id} failed to load (${this.failed.code}): ${reason}; ${outcome}`);
    }
  }
}
