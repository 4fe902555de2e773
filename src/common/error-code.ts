import { EngineErrorCode } from '../inference';

/** The codes only the HTTP layer raises; the engine's own come from EngineErrorCode. */
const API_ERROR_CODE = {
  ValidationFailed: 'VALIDATION_FAILED',
  InvalidJson: 'INVALID_JSON',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  TextTooLong: 'TEXT_TOO_LONG',
  NotFound: 'NOT_FOUND',
  /** No API key, or one no tenant owns. */
  Unauthorized: 'UNAUTHORIZED',
  /** The key's tenant is disabled in the tenants file. */
  TenantDisabled: 'TENANT_DISABLED',
  /** The caller asked for something its tenant may not see (another tenant's usage). */
  Forbidden: 'FORBIDDEN',
  /** The tenant's rate limit is used up; Retry-After says when to try again. */
  RateLimited: 'RATE_LIMITED',
  /** Too many open moderation streams (the tenant's limit: 429; the service's: 503); Retry-After says when to try again. */
  StreamLimitReached: 'STREAM_LIMIT_REACHED',
  StreamCapacityReached: 'STREAM_CAPACITY_REACHED',
  /** A client error with no more specific code (e.g. a malformed Content-Length header). */
  BadRequest: 'BAD_REQUEST',
  /** An input the model cannot read: an image part of an OpenAI moderation request (Qwen3Guard-Gen reads text only). */
  TextInputOnly: 'TEXT_INPUT_ONLY',
  /** The instance received SIGTERM and is draining: a retry belongs on another replica. */
  ShuttingDown: 'SHUTTING_DOWN',
  InternalError: 'INTERNAL_ERROR',
  /** The usage ledger could not record the request (e.g. its disk is full or read-only): it is not served unbilled. */
  UsageLedgerUnavailable: 'USAGE_LEDGER_UNAVAILABLE',
} as const;

/**
 * Every `code` an error response can carry: the HTTP layer's own and, derived rather than copied, every
 * engine code (EngineErrorCode), so a client, a log search and the engine agree on one name per failure.
 */
export const ErrorCode = { ...API_ERROR_CODE, ...EngineErrorCode } as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The HTTP status of each code: the one place that mapping lives. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  [ErrorCode.ValidationFailed]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.TextInputOnly]: 400,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.TenantDisabled]: 403,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.TextTooLong]: 413,
  [ErrorCode.InputTooLong]: 413,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.StreamLimitReached]: 429,
  [ErrorCode.StreamCapacityReached]: 503,
  [ErrorCode.InferenceFailed]: 500,
  [ErrorCode.InternalError]: 500,
  [ErrorCode.UnparseableOutput]: 502,
  [ErrorCode.InferenceTimeout]: 504,
  [ErrorCode.ModelNotReady]: 503,
  [ErrorCode.ModelInvalid]: 503,
  [ErrorCode.ProviderUnavailable]: 503,
  [ErrorCode.QueueFull]: 503,
  [ErrorCode.ShuttingDown]: 503,
  [ErrorCode.UsageLedgerUnavailable]: 503,
};
