import { ModerationStream } from './moderation-stream';
import { ChatMessage, ModerationInput, Verdict } from './verdict';

export type ExecutionProviderName = 'cpu' | 'cuda';

export interface ModelInfo {
  /** A stable id for responses and metrics: the repo id, the directory name, or `demo`. */
  id: string;
  /** The ONNX weight dtype actually loaded (`fp32`, `fp16`, `q4f16`, `quantized`, `int8`). */
  dtype: string;
  /** The execution provider that actually runs the session. */
  provider: ExecutionProviderName;
  /** True when the built-in synthetic demo model is serving: its verdicts are not real moderation. */
  demo: boolean;
  /** Absolute path of the model directory. */
  directory: string;
}

/**
 * The swappable moderation backend and the DI token for it. Implementations are plain TypeScript
 * (no Nest imports) so the CLI, the benchmarks and the tests use them directly.
 */
export abstract class ModerationEngine {
  /** Known once `load` resolved. */
  abstract get info(): ModelInfo;
  abstract get ready(): boolean;
  /** Loads the model and runs a warm-up inference; rejects when either fails. */
  abstract load(): Promise<void>;
  /** One verdict per input, in order. */
  abstract moderate(inputs: ModerationInput[]): Promise<Verdict[]>;
  abstract close(): Promise<void>;
  /**
   * A moderation session for the answer to `messages` (which end with the user's turn), appended as it
   * streams; each check gives what `moderate` would for the conversation with the answer so far.
   */
  openStream(messages: readonly ChatMessage[]): ModerationStream {
    void messages;
    throw new Error(`${this.constructor.name} does not moderate streams`);
  }
}
