import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ModelDtype, ProviderPreference } from '../onnx-engine-options';
import { dtypeOnnxFiles } from './model-directory';

/**
 * The int8 files, in the order they are preferred: `onnx/model_quantized.onnx` (tools/reference-models/
 * quantize_int8.py, optimum's and transformers.js's name), then `onnx/model_int8.onnx`.
 */
export const INT8_DTYPES: readonly ModelDtype[] = ['quantized', 'int8'];

/** Which dtype serves a model when QWEN3GUARD_DTYPE is not set, and why (for the start-up log). */
export interface DtypeChoice {
  dtype: ModelDtype;
  reason: string;
}

/**
 * The dtype to load when none is configured. On the CPU provider, the int8 file wherever the model has one:
 * about twice fp32's prefill speed there (docs/performance.md), with the verdicts transformers' float32 gives
 * (test/fidelity). On `cuda`, and on `auto` (which tries CUDA first), fp32 as before: the dynamically quantized
 * MatMulInteger of these files has no fast CUDA kernel. `hasFile` answers for a path relative to the model
 * directory or repository (`onnx/model_quantized.onnx`).
 */
export function defaultDtype(provider: ProviderPreference, hasFile: (relativePath: string) => boolean): DtypeChoice {
  if (provider !== 'cpu') return { dtype: 'fp32', reason: `the default on the ${provider} provider` };
  const int8 = INT8_DTYPES.find((dtype) => dtypeOnnxFiles(dtype).some(hasFile));
  if (int8 !== undefined) return { dtype: int8, reason: 'the default on CPU where int8 weights exist' };
  return { dtype: 'fp32', reason: 'the default on CPU: the model has no int8 file' };
}

/** defaultDtype for a model directory on disk. */
export function defaultDirectoryDtype(directory: string, provider: ProviderPreference): DtypeChoice {
  return defaultDtype(provider, (path) => existsSync(join(directory, path)));
}
