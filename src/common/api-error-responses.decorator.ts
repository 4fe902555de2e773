import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './dto/error-response.dto';

const MODERATION_ERRORS: ReadonlyArray<[number, string]> = [
  [400, 'VALIDATION_FAILED (names the first bad field), INVALID_JSON, or TEXT_INPUT_ONLY (an image part in /v1/moderations: the model reads text only).'],
  [401, 'UNAUTHORIZED: no API key (where anonymous access is off), an unknown key, or a malformed key header; without tenants configured, keys are ignored.'],
  [403, 'TENANT_DISABLED: the key belongs to a disabled tenant.'],
  [413, 'PAYLOAD_TOO_LARGE (body over BODY_LIMIT_BYTES), TEXT_TOO_LONG (a text over MAX_TEXT_CHARS) or INPUT_TOO_LONG (over the model context).'],
  [415, 'UNSUPPORTED_MEDIA_TYPE: the body must be application/json.'],
  [429, "RATE_LIMITED: the tenant's rate limit is used up; Retry-After says when to retry."],
  [502, "ENGINE_OUTPUT_UNPARSEABLE: the model's answer did not follow the Qwen3Guard format."],
  [
    503,
    'MODEL_NOT_READY while the model loads (with Retry-After); MODEL_INVALID or PROVIDER_UNAVAILABLE once it failed to load (the message gives ' +
      'the reason; no Retry-After: retrying cannot help); USAGE_LEDGER_UNAVAILABLE when the request could not be metered.',
  ],
];

/** The error answers every moderation endpoint shares, all in the ErrorResponseDto shape. */
export function ApiModerationErrors(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...MODERATION_ERRORS.map(([status, description]) => ApiResponse({ status, description, type: ErrorResponseDto })),
  );
}
