import { basename } from 'node:path';
import { FactoryProvider, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { EngineObserver } from '../inference/engine-observer';
import { ModerationEngine } from '../inference/moderation-engine';
import { OnnxModerationEngine } from '../inference/onnx-moderation-engine';
import { OnnxEngineOptions } from '../inference/onnx-engine-options';
import { ensureDemoModel } from '../synthetic-model/demo-model';

export const DEMO_MODEL_ID = 'qwen3guard-gen-demo';
export const DEMO_MODEL_WARNING = 'demo model: verdicts are synthetic, not real moderation';

/** What the configuration asks for, known before the model loads (the engine reports what it got). */
export interface ConfiguredModel {
  id: string;
  provider: string;
  dtype: string;
  demo: boolean;
}

export function configuredModel(config: AppConfig): ConfiguredModel {
  const directory = config.QWEN3GUARD_MODEL_DIR;
  return {
    id: config.QWEN3GUARD_MODEL_ID ?? (directory === undefined ? DEMO_MODEL_ID : basename(directory)),
    provider: config.QWEN3GUARD_PROVIDER,
    dtype: config.QWEN3GUARD_DTYPE,
    demo: directory === undefined,
  };
}

export function engineOptions(config: AppConfig, modelDir: string): OnnxEngineOptions {
  const model = configuredModel(config);
  return {
    modelDir,
    modelId: model.id,
    dtype: config.QWEN3GUARD_DTYPE,
    provider: config.QWEN3GUARD_PROVIDER,
    maxNewTokens: config.QWEN3GUARD_MAX_NEW_TOKENS,
    demo: model.demo,
    intraOpThreads: config.QWEN3GUARD_THREADS,
  };
}

/**
 * The engine behind the ModerationEngine token. Only constructed here: loading happens in the
 * background (EngineLoader) so the HTTP server listens, and answers 503, while the model loads.
 */
export const moderationEngineProvider: FactoryProvider<ModerationEngine> = {
  provide: ModerationEngine,
  // The observer comes from MetricsModule; without it (no metrics) the engine reports to nobody.
  inject: [AppConfig, { token: EngineObserver, optional: true }],
  useFactory: async (config: AppConfig, observer?: EngineObserver) => {
    const modelDir = config.QWEN3GUARD_MODEL_DIR ?? (await ensureDemoModel(config.QWEN3GUARD_CACHE_DIR));
    return new OnnxModerationEngine(engineOptions(config, modelDir), new Logger('ModerationEngine'), observer);
  },
};
