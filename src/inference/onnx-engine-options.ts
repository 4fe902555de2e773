/** What the ONNX engine needs to know; the Nest layer fills it from the validated configuration. */
export type ProviderPreference = 'cpu' | 'cuda' | 'auto';

/** ONNX weight files by dtype, as optimum / transformers.js name them under `onnx/`. */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q4f16', 'quantized', 'int8'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

export interface OnnxEngineOptions {
  /** A Hugging Face style model directory (config.json, tokenizer files, ONNX file). */
  modelDir: string;
  /** Shown in responses and metrics; defaults to the directory's name. */
  modelId?: string;
  dtype: ModelDtype;
  /** `cuda` fails loudly when the CUDA provider cannot load; only `auto` may fall back to CPU. */
  provider: ProviderPreference;
  /** Upper bound on generated tokens per verdict (the official evaluation uses 128). */
  maxNewTokens: number;
  /** True when serving the built-in synthetic demo model. */
  demo: boolean;
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  intraOpThreads?: number;
}

/** Where the engine reports what it does; the service passes a Nest logger adapter. */
export interface EngineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
