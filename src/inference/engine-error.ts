/** Why the engine failed; the HTTP layer maps each code to a status (see src/common). */
export enum EngineErrorCode {
  /** The model is still loading, or failed to load. */
  ModelNotReady = 'MODEL_NOT_READY',
  /** The model directory is missing files or holds something the engine cannot run. */
  ModelInvalid = 'MODEL_INVALID',
  /** The configured execution provider could not be loaded. */
  ProviderUnavailable = 'PROVIDER_UNAVAILABLE',
  /** The model's answer did not follow the Qwen3Guard format; no verdict is guessed. */
  UnparseableOutput = 'ENGINE_OUTPUT_UNPARSEABLE',
  /** The input does not fit the model (e.g. longer than its context window). */
  InputTooLong = 'INPUT_TOO_LONG',
  /** The engine's queue is full; the caller should retry later (dynamic batching's bound). */
  QueueFull = 'QUEUE_FULL',
  /** The runtime threw during inference. */
  InferenceFailed = 'INFERENCE_FAILED',
  /** No verdict within the inference deadline (queue wait included); the late inference is left to finish. */
  InferenceTimeout = 'INFERENCE_TIMEOUT',
}

export class EngineError extends Error {
  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EngineError';
  }
}
