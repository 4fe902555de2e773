import { basename } from 'node:path';
import { AppConfig } from '../config/app-config';
import { defaultDirectoryDtype, defaultDtype, EXACT_INFERENCE, OnnxEngineOptions } from '../inference';
import { HubCache } from '../model-hub/hub-cache';
import { ensureDemoModel } from '../synthetic-model/demo-model';

/**
 * Which model the configuration selects and where its directory is: plain TypeScript, so that the
 * service's engine provider and the CLI's one-shot `moderate` pick the same model the same way.
 */

export const DEMO_MODEL_ID = 'qwen3guard-gen-demo';
export const DEMO_MODEL_WARNING = 'demo model: verdicts are synthetic, not real moderation';

/** What the configuration asks for, known before the model loads (the engine reports what it got). */
export interface ConfiguredModel {
  id: string;
  provider: string;
  /** QWEN3GUARD_DTYPE, else the default the engine will take from the model's files (expectedDtype). */
  dtype: string;
  demo: boolean;
}

export function configuredModel(config: AppConfig): ConfiguredModel {
  return {
    id:
      config.QWEN3GUARD_MODEL_ID ??
      config.QWEN3GUARD_MODEL ??
      (config.QWEN3GUARD_MODEL_DIR === undefined ? DEMO_MODEL_ID : basename(config.QWEN3GUARD_MODEL_DIR)),
    provider: config.QWEN3GUARD_PROVIDER,
    dtype: expectedDtype(config),
    demo: config.usesDemoModel,
  };
}

/**
 * The dtype the engine will load, known before it does: QWEN3GUARD_DTYPE, else defaultDtype on the model's files
 * where they are already on disk. The demo model (fp32 and fp16 files only) and a directory not there yet give
 * the default for a model without an int8 file.
 */
function expectedDtype(config: AppConfig): string {
  if (config.QWEN3GUARD_DTYPE !== undefined) return config.QWEN3GUARD_DTYPE;
  const provider = config.QWEN3GUARD_PROVIDER;
  const directory =
    config.QWEN3GUARD_MODEL_DIR ??
    (config.QWEN3GUARD_MODEL === undefined ? undefined : new HubCache(config.HF_HUB_CACHE).findSnapshot(config.QWEN3GUARD_MODEL));
  return directory === undefined ? defaultDtype(provider, () => false).dtype : defaultDirectoryDtype(directory, provider).dtype;
}

export function engineOptions(config: AppConfig, modelDir: string): OnnxEngineOptions {
  const model = configuredModel(config);
  // The queue's bounds hold in every mode, exact inference included.
  const queueBounds = { maxQueue: config.QWEN3GUARD_MAX_QUEUE, maxQueueWaitMs: config.QWEN3GUARD_MAX_QUEUE_WAIT_MS };
  return {
    modelDir,
    modelId: model.id,
    dtype: config.QWEN3GUARD_DTYPE,
    provider: config.QWEN3GUARD_PROVIDER,
    maxNewTokens: config.QWEN3GUARD_MAX_NEW_TOKENS,
    demo: model.demo,
    intraOpThreads: config.QWEN3GUARD_THREADS,
    inferenceTimeoutMs: config.QWEN3GUARD_INFERENCE_TIMEOUT_MS,
    int8Activations: config.QWEN3GUARD_INT8_ACTIVATIONS,
    ...(config.QWEN3GUARD_EXACT
      ? { ...EXACT_INFERENCE, batching: { ...EXACT_INFERENCE.batching, ...queueBounds } }
      : {
          prefixCache: config.QWEN3GUARD_PREFIX_CACHE,
          logitsToKeep: config.QWEN3GUARD_LOGITS_TO_KEEP,
          groupedAttention: config.QWEN3GUARD_GROUPED_ATTENTION,
          finiteAttentionMask: config.QWEN3GUARD_FINITE_ATTENTION_MASK,
          constrainedDecoding: config.QWEN3GUARD_CONSTRAINED_DECODING,
          batching: {
            maxBatch: config.QWEN3GUARD_MAX_BATCH,
            maxBatchTokens: config.QWEN3GUARD_MAX_BATCH_TOKENS,
            maxWaitMs: config.QWEN3GUARD_BATCH_WAIT_MS,
            ...queueBounds,
          },
        }),
  };
}

/**
 * The model directory to load: QWEN3GUARD_MODEL_DIR; else QWEN3GUARD_MODEL's snapshot in the Hugging
 * Face cache (loadAppConfig has checked it is there: nothing is downloaded); else the demo model, built
 * on first use.
 */
export async function resolveModelDirectory(config: AppConfig): Promise<string> {
  if (config.QWEN3GUARD_MODEL_DIR !== undefined) return config.QWEN3GUARD_MODEL_DIR;
  if (config.QWEN3GUARD_MODEL === undefined) return ensureDemoModel(config.QWEN3GUARD_CACHE_DIR);
  const snapshot = new HubCache(config.HF_HUB_CACHE).findSnapshot(config.QWEN3GUARD_MODEL);
  if (snapshot === undefined) throw new Error(`QWEN3GUARD_MODEL=${config.QWEN3GUARD_MODEL} is no longer in the Hugging Face cache at ${config.HF_HUB_CACHE}`);
  return snapshot;
}
