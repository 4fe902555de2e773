import { STATUS_CODES } from 'node:http';
import { HttpException } from '@nestjs/common';
import { EngineError } from '../inference';
import { ApiException } from './api-exception';
import { ERROR_STATUS, ErrorCode } from './error-code';
import { ErrorResponseDto } from './dto/error-response.dto';

/** How long a client should wait before retrying while the model loads. */
export const MODEL_NOT_READY_RETRY_AFTER_SECONDS = 10;
/** A full inference queue drains in about a batch's time: retry soon. */
export const QUEUE_FULL_RETRY_AFTER_SECONDS = 1;
const RETRY_AFTER: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ModelNotReady]: MODEL_NOT_READY_RETRY_AFTER_SECONDS,
  [ErrorCode.QueueFull]: QUEUE_FULL_RETRY_AFTER_SECONDS,
};

/** The part of the request an error reply may mention. */
export interface RequestLine {
  method: string;
  url: string;
}

export interface ErrorReply {
  status: number;
  body: ErrorResponseDto;
  /** Seconds for the Retry-After header, when retrying later can succeed. */
  retryAfterSeconds?: number;
  /**
   * What operators need to see, for server-side failures only; never the request body or a stack.
   * A model that is not ready is left out: the loader logs that once, not once per request.
   */
  logMessage?: string;
}

interface Classified {
  code: ErrorCode;
  message: string;
  field?: string;
  retryAfterSeconds?: number;
  /** The underlying reason, for the log line of a server-side failure. */
  detail?: string;
}

/** Fastify's own request errors, by their `code`, with messages that never echo the body. */
const FASTIFY_ERRORS: Readonly<Record<string, Classified>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { code: ErrorCode.InvalidJson, message: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: ErrorCode.InvalidJson, message: 'the request body is empty; send a JSON object' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: ErrorCode.PayloadTooLarge, message: 'the request body is larger than the configured limit' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: ErrorCode.UnsupportedMediaType, message: 'send the request body as application/json' },
};

/** Engine failures whose own message is meant for operators, not clients. */
const ENGINE_PUBLIC_MESSAGES: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.ModelNotReady]: 'the model is not ready yet; retry later',
  [ErrorCode.ModelInvalid]: 'the model could not be loaded',
  [ErrorCode.ProviderUnavailable]: 'the execution provider could not be loaded',
  [ErrorCode.InferenceFailed]: 'inference failed',
  [ErrorCode.InferenceTimeout]: 'no verdict within the inference deadline; retry later',
  [ErrorCode.QueueFull]: 'the service is at capacity; retry shortly',
};

/** Turns anything thrown while serving a request into the one error shape. */
export function toErrorReply(exception: unknown, request: RequestLine): ErrorReply {
  const { code, message, field, detail, retryAfterSeconds = RETRY_AFTER[code] } = classify(exception, request);
  const status = ERROR_STATUS[code];
  const body: ErrorResponseDto = { statusCode: status, error: STATUS_CODES[status] ?? 'Error', code, message };
  if (field) body.field = field;
  return {
    status,
    body,
    ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    ...(status >= 500 &&
      retryAfterSeconds === undefined && { logMessage: `${request.method} ${pathOf(request.url)} -> ${status} ${code}: ${detail ?? message}` }),
  };
}

function classify(exception: unknown, request: RequestLine): Classified {
  if (exception instanceof ApiException) {
    return {
      code: exception.code,
      message: exception.message,
      field: exception.field,
      retryAfterSeconds: exception.retryAfterSeconds,
      detail: exception.detail,
    };
  }
  if (exception instanceof EngineError) return classifyEngineError(exception);
  if (exception instanceof HttpException) return classifyHttpException(exception, request);
  const detail = exception instanceof Error ? `${exception.name}: ${exception.message}` : 'a non-error value was thrown';
  return { code: ErrorCode.InternalError, message: 'internal error', detail };
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

function classifyEngineError(error: EngineError): Classified {
  // An engine code this layer does not know yet is a server-side failure, never an unmapped status.
  if (!KNOWN_CODES.has(error.code)) {
    return { code: ErrorCode.InternalError, message: 'internal error', detail: `${error.code}: ${error.message}` };
  }
  const code = error.code as string as ErrorCode;
  return { code, message: ENGINE_PUBLIC_MESSAGES[code] ?? error.message, detail: error.message };
}

/** HttpExceptions come from Nest itself: unknown routes, and Fastify errors Nest wraps (cause). */
function classifyHttpException(exception: HttpException, request: RequestLine): Classified {
  const fastifyCode = (exception.cause as { code?: unknown } | undefined)?.code;
  if (typeof fastifyCode === 'string' && FASTIFY_ERRORS[fastifyCode]) return FASTIFY_ERRORS[fastifyCode];
  const status = exception.getStatus();
  if (status === 404) {
    return { code: ErrorCode.NotFound, message: `no route for ${request.method} ${pathOf(request.url)}` };
  }
  if (status === 413) return FASTIFY_ERRORS.FST_ERR_CTP_BODY_TOO_LARGE;
  if (status === 415) return FASTIFY_ERRORS.FST_ERR_CTP_INVALID_MEDIA_TYPE;
  if (status < 500) return { code: ErrorCode.BadRequest, message: STATUS_CODES[status] ?? 'bad request' };
  return { code: ErrorCode.InternalError, message: 'internal error', detail: exception.message };
}

/** The path without its query string, which may carry anything a client typed; capped for log lines. */
function pathOf(url: string): string {
  const path = url.split('?', 1)[0];
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}
