import { Command, Option } from 'commander';
import { EnvSource } from '../config/load-app-config';
import { MODEL_DTYPES } from '../inference';

export interface ModelOptions {
  model?: string;
  modelDir?: string;
  dtype?: string;
}

/** The model options `serve` and `moderate` share; each stands in for the environment variable it names. */
export function addModelOptions(command: Command): Command {
  return command
    .addOption(new Option('--model <repo-id>', 'a Hugging Face repo id already pulled into the cache (QWEN3GUARD_MODEL)').conflicts('modelDir'))
    .addOption(new Option('--model-dir <directory>', 'a Qwen3Guard-Gen ONNX model directory (QWEN3GUARD_MODEL_DIR)'))
    .addOption(new Option('--dtype <dtype>', 'which ONNX weights to load (QWEN3GUARD_DTYPE)').choices(MODEL_DTYPES));
}

/**
 * The options as variables laid over the environment, so that the configuration validates them exactly as
 * at start-up. A model option replaces the other kind set in the environment (an empty value is unset).
 */
export function modelEnvironment(options: ModelOptions): EnvSource {
  const overrides: Record<string, string> = {};
  if (options.model !== undefined) Object.assign(overrides, { QWEN3GUARD_MODEL: options.model, QWEN3GUARD_MODEL_DIR: '' });
  if (options.modelDir !== undefined) Object.assign(overrides, { QWEN3GUARD_MODEL_DIR: options.modelDir, QWEN3GUARD_MODEL: '' });
  if (options.dtype !== undefined) overrides.QWEN3GUARD_DTYPE = options.dtype;
  return overrides;
}
