/**
 * Every `code` an error response can carry. The engine's codes (EngineErrorCode) are repeated verbatim,
 * as literals so that this stays a plain string enum, so a client, a log search and the engine agree
 * on one name per failure; error-reply.mapper.spec.ts checks that none is missing.
 */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  InvalidJson = 'INVALID_JSON',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  TextTooLong = 'TEXT_TOO_LONG',
  NotFound = 'NOT_FOUND',
  /** A client error with no more specific code (e.g. a malformed Content-Length header). */
  BadRequest = 'BAD_REQUEST',
  ModelNotReady = 'MODEL_NOT_READY',
  ModelInvalid = 'MODEL_INVALID',
  ProviderUnavailable = 'PROVIDER_UNAVAILABLE',
  EngineOutputUnparseable = 'ENGINE_OUTPUT_UNPARSEABLE',
  InputTooLong = 'INPUT_TOO_LONG',
  QueueFull = 'QUEUE_FULL',
  InferenceFailed = 'INFERENCE_FAILED',
  InferenceTimeout = 'INFERENCE_TIMEOUT',
  InternalError = 'INTERNAL_ERROR',
}

/** The HTTP status of each code: the one place that mapping lives. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.TextTooLong]: 413,
  [ErrorCode.InputTooLong]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.InferenceFailed]: 500,
  [ErrorCode.InternalError]: 500,
  [ErrorCode.EngineOutputUnparseable]: 502,
  [ErrorCode.InferenceTimeout]: 504,
  [ErrorCode.ModelNotReady]: 503,
  [ErrorCode.ModelInvalid]: 503,
  [ErrorCode.ProviderUnavailable]: 503,
  [ErrorCode.QueueFull]: 503,
};
