import { BatchingOptions } from './batch-scheduler';

/** What the ONNX engine needs to know; the Nest layer fills it from the validated configuration. */
export type ProviderPreference = 'cpu' | 'cuda' | 'auto';

/** ONNX weight files by dtype, as optimum / transformers.js name them under `onnx/`. */
export const MODEL_DTYPES = ['fp32', 'fp16', 'q4f16', 'quantized', 'int8'] as const;
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** How int8 files scale their activations on the CPU provider (see OnnxEngineOptions.int8Activations). */
export const INT8_ACTIVATION_SCALES = ['per-token', 'per-pass'] as const;
export type Int8ActivationScale = (typeof INT8_ACTIVATION_SCALES)[number];

export interface OnnxEngineOptions {
  /** A Hugging Face style model directory (config.json, tokenizer files, ONNX file). */
  modelDir: string;
  /** Shown in responses and metrics; defaults to the directory's name. */
  modelId?: string;
  /** Unset: defaultDtype (int8 on the CPU provider where the model has an int8 file, else fp32). */
  dtype?: ModelDtype;
  /** `cuda` fails loudly when the CUDA provider cannot load; only `auto` may fall back to CPU. */
  provider: ProviderPreference;
  /** Upper bound on generated tokens per verdict (the official evaluation uses 128). */
  maxNewTokens: number;
  /** True when serving the built-in synthetic demo model. */
  demo: boolean;
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  intraOpThreads?: number;
  /** Reuse the keys and values of the template's fixed preamble (default on). */
  prefixCache?: boolean;
  /**
   * Compute the LM head only for the positions a pass reads, through a `logits_to_keep` input added to the
   * graph at load (default on; logits-to-keep.ts). Off: logits for every position fed, as exported.
   */
  logitsToKeep?: boolean;
  /**
   * Dynamically quantized int8 files, on the CPU provider: 'per-token' (default) gives every token its own
   * activation scale at load (per-token-int8.ts), so a text's verdict does not depend on its batch mates, on
   * how its prompt is chunked or on speculation; 'per-pass' runs the file as exported, one scale over all a
   * pass carries (docs/performance.md has the cost of each).
   */
  int8Activations?: Int8ActivationScale;
  /**
   * Attention that reads each KV head once (default on; grouped-attention.ts): exports that repeat the KV heads
   * per query head, as transformers' do, are rewritten at load to feed the cache to both attention products as
   * it is. Off: attention as exported.
   */
  groupedAttention?: boolean;
  /**
   * A finite attention mask (default on; finite-attention-mask.ts): exports that mask with -inf and guard each
   * softmax against NaN, as transformers' do, are rewritten at load to mask with the lowest float32 and drop the
   * guard, the same bits for every row the engine reads. Off: attention as exported.
   */
  finiteAttentionMask?: boolean;
  /**
   * Read the verdict at the forced `Safety:` position and decode only what the answer format leaves
   * open (default on). Off: plain greedy generation of the whole answer, parsed as text.
   */
  constrainedDecoding?: boolean;
  /**
   * With constrained decoding, require the model's own greedy choice to agree at every checked step (default
   * on), so an answer plain greedy decoding could not parse is refused, never imposed. Off only for
   * benchmarks on random weights.
   */
  verifyAnswerFormat?: boolean;
  /**
   * With constrained decoding, feed each pass a guessed continuation of the answer and keep what the model's
   * own picks confirm (default on; exports without `position_ids` never do): the same answers in fewer passes.
   */
  speculativeAnswer?: boolean;
  /**
   * Longest wait for a request's verdicts, queue included, in milliseconds; unset: no deadline. onnxruntime
   * cannot cancel a run, so a late inference keeps running, and the engine reports not ready until it returns.
   */
  inferenceTimeoutMs?: number;
  /** Dynamic batching bounds; batches form only with constrained decoding (plain greedy runs alone). */
  batching?: Partial<BatchingOptions>;
}

export const DEFAULT_BATCHING: BatchingOptions = { maxBatch: 8, maxBatchTokens: 8192, maxWaitMs: 2, maxQueue: 256, maxQueueWaitMs: 2000 };

/** Every speed-up off: the reference behaviour the equivalence suite compares against. */
export const EXACT_INFERENCE: Pick<
  OnnxEngineOptions,
  'prefixCache' | 'logitsToKeep' | 'groupedAttention' | 'finiteAttentionMask' | 'constrainedDecoding' | 'batching'
> = {
  prefixCache: false,
  logitsToKeep: false,
  groupedAttention: false,
  finiteAttentionMask: false,
  constrainedDecoding: false,
  batching: { maxBatch: 1 },
};

/** Where the engine reports what it does; the service passes a Nest logger adapter. */
export interface EngineLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
