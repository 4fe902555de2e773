import { ErrorCode } from './error-code';

/**
 * A failure the service explains to the client. Carries a code, never a status: the exception filter
 * owns the code-to-status mapping. `field` is the request property at fault, as a path (`items.0.prompt`).
 */
export class ApiException extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    /** When retrying later can succeed: the seconds to wait (the Retry-After header). */
    readonly retryAfterSeconds?: number,
    /** For a server-side failure: the underlying reason, for operators' log line; never sent to the client. */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'ApiException';
  }
}
