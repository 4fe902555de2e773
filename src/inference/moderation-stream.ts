import { SafetyLevel, Verdict } from './verdict';

/** One check of a stream: the verdict on the answer so far, as a full moderation of it would give. */
export interface StreamCheck {
  /** 1 for the stream's first check. */
  check: number;
  verdict: Verdict;
  /** Characters (UTF-16 code units) of the answer this verdict covers. */
  answerChars: number;
  /** KV positions the check started from instead of computing them. */
  reusedTokens: number;
  /** Prompt positions the check ran through the model (new answer tokens, the uncommitted ones, the tail). */
  computedTokens: number;
}

/** Where the verdict first turned Unsafe or Controversial. */
export interface FirstFlag {
  check: number;
  answerChars: number;
  safetyLevel: Exclude<SafetyLevel, 'safe'>;
}

/**
 * A moderation session for one answer as it streams: the conversation's prompt given at the start, the
 * answer appended in chunks; each check gives what a full moderation of the answer so far would give.
 */
export interface ModerationStream {
  readonly id: number;
  /** Characters (UTF-16 code units) of the answer so far. */
  readonly answerChars: number;
  /** Tokens of the template head and the answer so far. */
  readonly tokens: number;
  /** Tokens the answer added to the template head so far. */
  readonly answerTokens: number;
  /** KV positions held for this stream alone (0 before the first check and once evicted). */
  readonly cachedTokens: number;
  readonly checkCount: number;
  readonly firstFlag: FirstFlag | null;
  append(chunk: string): void;
  /** The verdict on the answer as it is now; checks asked for together run one after the other. */
  check(): Promise<StreamCheck>;
  /** Frees the KV cache (now, or once the running check is done); the next check recomputes it. */
  evict(): void;
  close(): void;
}
