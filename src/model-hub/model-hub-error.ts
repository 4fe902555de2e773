import { HubApiError } from '@huggingface/hub';

/** A pull or a cache lookup failed; the message says why and what to do, and is meant for the operator. */
export class ModelHubError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelHubError';
  }
}

export interface HubRequestContext {
  repoId: string;
  revision: string;
  endpoint: string;
  /** Whether a token was sent: a 401 means something else with one than without. */
  withToken: boolean;
}

/** What @huggingface/hub or fetch threw, as a ModelHubError whose message names the fix. */
export function explainHubFailure(error: unknown, context: HubRequestContext): ModelHubError {
  if (error instanceof ModelHubError) return error;
  return new ModelHubError(describe(error, context), { cause: error });
}

function describe(error: unknown, { repoId, revision, endpoint, withToken }: HubRequestContext): string {
  if (error instanceof HubApiError) {
    switch (error.statusCode) {
      case 401:
        return withToken
          ? `the Hub at ${endpoint} refused the token for ${repoId} (401): check HF_TOKEN, or log in again with huggingface-cli login`
          : `${repoId} was not found on ${endpoint}, or it is private or gated and needs a token (401): set HF_TOKEN, or log in with huggingface-cli login`;
      case 403:
        return `no access to ${repoId} with this token (403): accept the model's conditions on its page, and give a fine-grained token read access to it`;
      case 404:
        return `${repoId} at revision ${revision} was not found on ${endpoint} (404)`;
      default:
        return `the Hub at ${endpoint} answered ${error.statusCode} for ${repoId}: ${error.message}`;
    }
  }
  if (isNetworkFailure(error)) {
    return (
      `cannot reach the Hugging Face Hub at ${endpoint} (${networkReason(error)}): check the network, a proxy or HF_ENDPOINT. ` +
      'Models already pulled are served without it; HF_HUB_OFFLINE=1 keeps pull from trying'
    );
  }
  if (isTypeError(error) && /access token/.test(error.message)) {
    return `HF_TOKEN is not a Hugging Face access token (${error.message})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Node's fetch reports every connection failure (refused, DNS, TLS, timeout) as this TypeError. */
function isNetworkFailure(error: unknown): error is TypeError {
  return isTypeError(error) && error.message === 'fetch failed';
}

/** By name, not instanceof: fetch's errors come from Node's own realm, which a sandbox (a test runner) does not share. */
function isTypeError(error: unknown): error is TypeError {
  return typeof error === 'object' && error !== null && (error as Error).name === 'TypeError' && typeof (error as Error).message === 'string';
}

function networkReason(error: TypeError): string {
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
