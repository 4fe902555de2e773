import { PromptEncoder } from './prompt-encoder';
import { ChatMessage } from '../verdict';

/** Stands for the answer while the template is rendered; never a string a template would alter or a user would send. */
const ANSWER_MARK = '\u0000streamed-answer\u0000';

/**
 * Tokens of the text so far left uncommitted: a chunk boundary can cut what the whole text tokenizes as one
 * token (a word, a run of punctuation, a character's bytes), and the next chunk can still change the last
 * few tokens, never the ones before them (merges do not cross the pre-tokenizer's word boundaries).
 */
export const UNCOMMITTED_TOKENS = 4;

/**
 * The rendered template of a response moderation around an answer that grows: `head` (everything up to the
 * answer, the conversation's prompt included), the answer, then `tail` (what follows it up to the generation
 * prompt). Found by rendering the model's own template around a mark.
 */
export interface AnswerFrame {
  head: string;
  tail: string;
}

export function frameAnswer(encoder: PromptEncoder, messages: readonly ChatMessage[]): AnswerFrame {
  const rendered = encoder.render([...messages, { role: 'assistant', content: ANSWER_MARK }]);
  const at = rendered.indexOf(ANSWER_MARK);
  if (at < 0 || rendered.indexOf(ANSWER_MARK, at + 1) >= 0) throw new Error("the chat template does not place the assistant's answer once, verbatim");
  return { head: rendered.slice(0, at), tail: rendered.slice(at + ANSWER_MARK.length) };
}

/**
 * The token ids of `head + answer` as the answer arrives in chunks, each chunk tokenized with the uncommitted
 * text before it, so that `committed` always equals the start of the whole text's tokenization (with the
 * template's tail after it) while only the last few tokens are ever tokenized again.
 */
export class StreamedAnswer {
  /** Ids that will not change whatever text follows. */
  readonly committed: number[] = [];
  /** Text after the committed ids: re-tokenized with each chunk. */
  private pending: string;
  private pendingIds: number[] = [];
  private answerChars = 0;

  constructor(
    private readonly encoder: PromptEncoder,
    private readonly frame: AnswerFrame,
    private readonly holdBack = UNCOMMITTED_TOKENS,
  ) {
    this.pending = frame.head;
    this.retokenize();
  }

  /** Characters (UTF-16 code units) of the answer so far. */
  get answerLength(): number {
    return this.answerChars;
  }

  /** Tokens of head and answer so far (the uncommitted ones counted as they tokenize now). */
  get tokenCount(): number {
    return this.committed.length + this.pendingIds.length;
  }

  append(chunk: string): void {
    this.pending += chunk;
    this.answerChars += chunk.length;
    this.retokenize();
  }

  /** The whole prompt a full moderation of the answer so far would feed: committed ids, then the rest with the tail. */
  prompt(): number[] {
    return [...this.committed, ...this.encoder.tokenize(this.pending + this.frame.tail)];
  }

  /**
   * Commits all but the last `holdBack` tokens of the pending text, at the longest cut whose ids spell a
   * prefix of it exactly (not inside a character's bytes, not where decoding would differ).
   */
  private retokenize(): void {
    const ids = this.encoder.tokenize(this.pending);
    for (let cut = ids.length - this.holdBack; cut > 0; cut--) {
      const text = this.encoder.detokenize(ids.slice(0, cut));
      // A cut inside a character's bytes decodes to U+FFFD, which the text does not hold there.
      if (!this.pending.startsWith(text)) continue;
      this.committed.push(...ids.slice(0, cut));
      this.pending = this.pending.slice(text.length);
      this.pendingIds = ids.slice(cut);
      return;
    }
    this.pendingIds = ids;
  }
}
