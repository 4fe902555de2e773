import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { ERROR_STATUS, ErrorCode } from '../common/error-code';

/** What each code tells a client; a Record over every code, so a new code cannot be left out of the docs. */
const ERROR_DESCRIPTIONS: Readonly<Record<ErrorCode, string>> = {
  [ErrorCode.ValidationFailed]: 'VALIDATION_FAILED names the first bad field',
  [ErrorCode.InvalidJson]: 'INVALID_JSON: the body is not JSON',
  [ErrorCode.BadRequest]: 'BAD_REQUEST: a malformed request with no more specific code',
  [ErrorCode.TextInputOnly]: 'TEXT_INPUT_ONLY: an image part in /v1/moderations (the model reads text only)',
  [ErrorCode.Unauthorized]:
    'UNAUTHORIZED: no API key (where anonymous access is off), an unknown key, or a malformed key header; without tenants configured, keys are ignored',
  [ErrorCode.TenantDisabled]: 'TENANT_DISABLED: the key belongs to a disabled tenant',
  [ErrorCode.Forbidden]: "FORBIDDEN: another tenant's data",
  [ErrorCode.NotFound]: 'NOT_FOUND: no such route',
  [ErrorCode.PayloadTooLarge]: 'PAYLOAD_TOO_LARGE: body over BODY_LIMIT_BYTES',
  [ErrorCode.TextTooLong]: 'TEXT_TOO_LONG: a text over MAX_TEXT_CHARS',
  [ErrorCode.InputTooLong]: 'INPUT_TOO_LONG: over the model context',
  [ErrorCode.UnsupportedMediaType]: 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json',
  [ErrorCode.RateLimited]: "RATE_LIMITED: the tenant's rate limit is used up; Retry-After says when to retry",
  [ErrorCode.InferenceFailed]: 'INFERENCE_FAILED: the runtime failed during inference',
  [ErrorCode.InternalError]: 'INTERNAL_ERROR: an unexpected failure',
  [ErrorCode.UnparseableOutput]: "ENGINE_OUTPUT_UNPARSEABLE: the model's answer did not follow the Qwen3Guard format",
  [ErrorCode.InferenceTimeout]: 'INFERENCE_TIMEOUT: no verdict within the inference deadline; retry later',
  [ErrorCode.ModelNotReady]: 'MODEL_NOT_READY while the model loads (with Retry-After)',
  [ErrorCode.ModelInvalid]: 'MODEL_INVALID once the model failed to load (the message gives the reason; no Retry-After: retrying cannot help)',
  [ErrorCode.ProviderUnavailable]: 'PROVIDER_UNAVAILABLE once the execution provider failed to load (no Retry-After)',
  [ErrorCode.QueueFull]: 'QUEUE_FULL: the service is at capacity (with Retry-After)',
  [ErrorCode.ShuttingDown]: 'SHUTTING_DOWN: the instance is draining; retry on another',
  [ErrorCode.StreamLimitReached]: 'STREAM_LIMIT_REACHED: the tenant has as many moderation streams open as it may (with Retry-After)',
  [ErrorCode.StreamCapacityReached]: 'STREAM_CAPACITY_REACHED: the service holds as many moderation streams as it may (with Retry-After)',
  [ErrorCode.UsageLedgerUnavailable]: 'USAGE_LEDGER_UNAVAILABLE: the request could not be metered',
};

/** The error table, one entry per status, derived from ERROR_STATUS. */
export function errorResponsesByStatus(): Map<number, string> {
  const byStatus = new Map<number, string[]>();
  for (const [code, status] of Object.entries(ERROR_STATUS) as Array<[ErrorCode, number]>) {
    byStatus.set(status, [...(byStatus.get(status) ?? []), ERROR_DESCRIPTIONS[code]]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b).map(([status, descriptions]) => [status, `${descriptions.join('; ')}.`]));
}

/** The error answers every moderation endpoint shares, all in the ErrorResponseDto shape. */
export function ApiModerationErrors(): MethodDecorator & ClassDecorator {
  return applyDecorators(...[...errorResponsesByStatus()].map(([status, description]) => ApiResponse({ status, description, type: ErrorResponseDto })));
}
