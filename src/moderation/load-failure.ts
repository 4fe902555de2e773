import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { EngineError, EngineErrorCode } from '../inference';

/** Why the model did not load, as clients and /health/ready are told. */
export interface LoadFailure {
  code: typeof ErrorCode.ModelInvalid | typeof ErrorCode.ProviderUnavailable;
  /** One line, without the machine's paths: a file keeps its name, never the directories above it. */
  reason: string;
}

const MAX_REASON_CHARS = 300;
/** An absolute POSIX or Windows path, up to the next space or quote; a leading `/` mid-word (a/b) is not one. */
const ABSOLUTE_PATH = /(?<![\w.~-])(?:\/|[A-Za-z]:\\)[^\s'"`,;()]*/g;

export function loadFailureOf(error: unknown): LoadFailure {
  const code = error instanceof EngineError && error.code === EngineErrorCode.ProviderUnavailable ? ErrorCode.ProviderUnavailable : ErrorCode.ModelInvalid;
  return { code, reason: publicReason(error instanceof Error ? error.message : String(error)) };
}

/** One line, each absolute path cut to its last part (a home directory or a mount can name a person or a secret store). */
export function publicReason(message: string): string {
  const line = message
    .replace(/\s+/g, ' ')
    .trim()
    .replace(ABSOLUTE_PATH, (path) => path.split(/[\\/]/).filter(Boolean).pop() ?? path);
  return line.length > MAX_REASON_CHARS ? `${line.slice(0, MAX_REASON_CHARS)}...` : line;
}

/** What every moderation call answers once the load failed: no Retry-After, since retrying cannot help. */
export function loadFailureException({ code, reason }: LoadFailure): ApiException {
  return new ApiException(code, `the model failed to load; the service cannot moderate until it is restarted with a working model: ${reason}`);
}
