import { ErrorCode } from './error-code';

export interface ApiExceptionOptions {
  /** The request property at fault, as a path (`items.0.prompt`). */
  field?: string;
  /** When retrying later can succeed: the seconds to wait (the Retry-After header). */
  retryAfterSeconds?: number;
  /** For a server-side failure: the underlying reason, for operators' log line; never sent to the client. */
  detail?: string;
}

/**
 * A failure the service explains to the client. Carries a code, never a status: the exception filter
 * owns the code-to-status mapping.
 */
export class ApiException extends Error {
  readonly field?: string;
  readonly retryAfterSeconds?: number;
  readonly detail?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    { field, retryAfterSeconds, detail }: ApiExceptionOptions = {},
  ) {
    super(message);
    this.name = 'ApiException';
    this.field = field;
    this.retryAfterSeconds = retryAfterSeconds;
    this.detail = detail;
  }
}
