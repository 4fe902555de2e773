import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ModerationEngine } from '../inference';
import { DEMO_MODEL_WARNING } from './configured-model';

export type LoadState = 'loading' | 'ready' | 'failed';

/** Loads the engine in the background once the application is up, and closes it on shutdown. */
@Injectable()
export class EngineLoader implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('EngineLoader');
  private loading: Promise<void> = Promise.resolve();
  private current: LoadState = 'loading';

  constructor(private readonly engine: ModerationEngine) {}

  get state(): LoadState {
    return this.current;
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
      this.current = 'failed';
      const reason = error instanceof Error ? error.message : String(error);
      this.logger.error(`MODEL FAILED TO LOAD, the service stays unready (503 on /health/ready and every moderation call): ${reason}`);
    }
  }
}
