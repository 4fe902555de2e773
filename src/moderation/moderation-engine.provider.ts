import { FactoryProvider, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EngineObserver, ModerationEngine, OnnxModerationEngine } from '../inference';
import { engineOptions, resolveModelDirectory } from '../composition/configured-model';

/**
 * The engine behind the ModerationEngine token. Only constructed here: loading happens in the
 * background (EngineLoader) so the HTTP server listens, and answers 503, while the model loads.
 */
export const moderationEngineProvider: FactoryProvider<ModerationEngine> = {
  provide: ModerationEngine,
  // The observer comes from MetricsModule; without it (no metrics) the engine reports to nobody.
  inject: [AppConfig, { token: EngineObserver, optional: true }],
  useFactory: async (config: AppConfig, observer?: EngineObserver) => {
    const modelDir = await resolveModelDirectory(config);
    return new OnnxModerationEngine(engineOptions(config, modelDir), new Logger('ModerationEngine'), observer);
  },
};
