import { StreamedAnswer } from './answer-format/streamed-answer';
import { FirstFlag, ModerationStream, StreamCheck } from './moderation-stream';
import { KvCache } from './runtime/decoder-session';
import { Verdict } from './verdict';

/** What a check hands the engine: the ids to feed and the stream's KV cache, which the engine replaces. */
export interface StreamWork {
  /** The whole prompt of a full moderation of the answer so far. */
  readonly prompt: number[];
  /** How many of its first ids (template head and answer) no later chunk can change. */
  readonly committedLength: number;
  /** The KV of the prompt's first `length` ids, or null when there is none (new, evicted). */
  readonly cache: KvCache | null;
  /** The stream's cache from now on (null while a pass owns it). */
  keep(cache: KvCache | null): void;
}

/** The engine's side of a stream: checks run through its scheduler; caches are freed in its session. */
export interface StreamRunner {
  check(stream: number, work: StreamWork): Promise<Verdict>;
  discard(cache: KvCache): void;
}

let nextStreamId = 1;

/** The answer as it was when a check was asked for. */
interface AnswerSnapshot {
  prompt: number[];
  committedLength: number;
  answerChars: number;
}

/**
 * ModerationStream on the ONNX engine. It keeps the keys and values of the template head and the committed answer,
 * so a check computes only the new tokens and the template's tail; the tail's keys and values are dropped
 * after each check. Checks run one at a time, in order.
 */
export class OnnxModerationStream implements ModerationStream {
  readonly id = nextStreamId++;
  private cache: KvCache | null = null;
  private checks = 0;
  private flag: FirstFlag | null = null;
  private running: Promise<unknown> = Promise.resolve();
  private busy = false;
  private evictAfterCheck = false;
  private closed = false;
  private readonly headTokens: number;

  constructor(
    private readonly answer: StreamedAnswer,
    private readonly runner: StreamRunner,
  ) {
    this.headTokens = answer.tokenCount;
  }

  get answerChars(): number {
    return this.answer.answerLength;
  }

  get tokens(): number {
    return this.answer.tokenCount;
  }

  /** The shared template prefix is not counted. */
  get cachedTokens(): number {
    return this.cache && !this.cache.shared ? this.cache.length : 0;
  }

  get answerTokens(): number {
    return this.answer.tokenCount - this.headTokens;
  }

  get checkCount(): number {
    return this.checks;
  }

  get firstFlag(): FirstFlag | null {
    return this.flag;
  }

  append(chunk: string): void {
    this.assertOpen();
    this.answer.append(chunk);
  }

  check(): Promise<StreamCheck> {
    this.assertOpen();
    const text: AnswerSnapshot = { prompt: this.answer.prompt(), committedLength: this.answer.committed.length, answerChars: this.answer.answerLength };
    const result = this.running.then(() => this.runCheck(text));
    this.running = result.catch(() => undefined);
    return result;
  }

  evict(): void {
    if (this.busy) this.evictAfterCheck = true;
    else this.dropCache();
  }

  close(): void {
    this.closed = true;
    this.evict();
  }

  private async runCheck({ prompt, committedLength, answerChars }: AnswerSnapshot): Promise<StreamCheck> {
    this.assertOpen();
    const check = this.checks + 1;
    this.busy = true;
    try {
      const verdict = await this.runner.check(this.id, {
        prompt,
        committedLength,
        cache: this.cache,
        keep: (cache) => {
          this.cache = cache;
        },
      });
      this.checks = check;
      if (!this.flag && verdict.safetyLevel !== 'safe') this.flag = { check, answerChars, safetyLevel: verdict.safetyLevel };
      return { check, verdict, answerChars, reusedTokens: verdict.cachedTokens, computedTokens: verdict.promptTokens - verdict.cachedTokens };
    } finally {
      this.busy = false;
      if (this.evictAfterCheck || this.closed) this.dropCache();
    }
  }

  private dropCache(): void {
    this.evictAfterCheck = false;
    if (this.cache) this.runner.discard(this.cache);
    this.cache = null;
  }

  private assertOpen(): void {
    // The service forgets a stream it closes: reaching here is a bug, not a client's mistake.
    if (this.closed) throw new Error(`moderation stream ${this.id} is closed`);
  }
}
