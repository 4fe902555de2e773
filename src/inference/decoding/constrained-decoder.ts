import type { Tensor } from 'onnxruntime-node';
import { AnswerGrammar, CategoryCursor } from '../answer-format/answer-grammar';
import { DecoderSession, ForwardStep, KvCache } from '../runtime/decoder-session';
import { PREFILL_BATCH_POSITIONS, PREFILL_CHUNK_TOKENS } from './prefill';
import { EngineError, EngineErrorCode } from '../engine-error';
import { argmaxAmong, argmaxVocabulary, lastPositionLogits, LogitsRow, positionLogits } from '../runtime/logits';
import { ModerationMode, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../verdict';

export interface ConstrainedRequest {
  mode: ModerationMode;
  prompt: readonly number[];
}

export interface ConstrainedAnswer {
  safetyLevel: SafetyLevel;
  /** Logits of the three levels' first tokens, in SAFETY_LEVELS order. */
  levelLogits: number[];
  categories: RiskCategory[];
  refusal: boolean | null;
  /** Tokens of the complete answer (forced and chosen), as plain greedy decoding would have written them. */
  answerTokens: number;
  /** Prompt tokens whose keys and values came from the cache. */
  cachedTokens: number;
  /** Set when the model's own greedy choice left the answer format: no verdict for this row. */
  error?: EngineError;
}

export interface ConstrainedBatchResult {
  answers: ConstrainedAnswer[];
  prefillSeconds: number;
  decodeSeconds: number;
  /** Forward passes after the prefill. */
  decodeSteps: number;
}

type Phase = 'level' | 'category' | 'refusal' | 'done';

/** Fewest tokens a row feeds per pass, whatever the batch: more than any run of forced answer tokens. */
const MIN_ROW_CHUNK = 32;

/** One row of the batch as it walks the answer grammar. */
class RowState {
  phase: Phase = 'level';
  pending: number[];
  /** How many of the last pending tokens are answer text the model must itself predict (checked). */
  forcedTail: number;
  error: EngineError | undefined;
  /** 1 for a real token, 0 for padding, for every position in the KV cache. */
  readonly mask: number[];
  position: number;
  cursor: CategoryCursor | null = null;
  level: SafetyLevel = 'safe';
  levelLogits: number[] = [];
  readonly categories: RiskCategory[] = [];
  refusal: boolean | null = null;

  constructor(
    readonly mode: ModerationMode,
    suffix: number[],
    cachedLength: number,
  ) {
    this.pending = suffix;
    this.forcedTail = 0;
    this.mask = new Array<number>(cachedLength).fill(1);
    this.position = cachedLength;
  }

  /** Queues the next pass: `chosen` (already checked) then text the model has to agree with. */
  queue(tokens: number[], forcedTail = tokens.length - 1): void {
    this.pending = tokens;
    this.forcedTail = forcedTail;
  }

  finish(): void {
    this.phase = 'done';
    this.pending = [];
    this.forcedTail = 0;
  }

  fail(reason: string): void {
    this.error = new EngineError(EngineErrorCode.UnparseableOutput, `the model's answer leaves the Qwen3Guard format (${reason})`);
    this.finish();
  }
}

/**
 * Verdict-constrained decoding, batched. The prompt's prefill carries the forced `Safety:` tokens, so
 * the first forward pass already yields the level distribution; after that only real choices are read
 * from the model (categories, separators, Yes/No), restricted to what the answer format allows, and every
 * fixed piece between them is prefilled in the same pass as the choice before it. A Safe prompt verdict
 * needs no pass beyond the prefill. Rows are left-padded to a common length each pass; finished rows ride
 * along as padding until every row is done.
 */
export class ConstrainedDecoder {
  /**
   * `verifyFormat` (the default) holds every row to what plain greedy decoding would write, at no extra
   * pass: at each forced token a pass carries and at each choice, the model's own argmax over the whole
   * vocabulary must agree, else the row fails as unparseable, as its greedy text would. What follows the
   * last choice is not re-checked: a Safe prompt verdict ends at the prefill, a reply at Yes/No. Off, the
   * format is imposed (benchmarks on random weights only).
   */
  constructor(
    private readonly session: DecoderSession,
    private readonly grammar: AnswerGrammar,
    private readonly verifyFormat = true,
    private readonly prefillChunk = PREFILL_CHUNK_TOKENS,
    private readonly batchPositions = PREFILL_BATCH_POSITIONS,
  ) {}

  /** All requests share `start`: the cache of their common first `start.length` prompt tokens (batch rows). */
  async run(requests: readonly ConstrainedRequest[], start: KvCache): Promise<ConstrainedBatchResult> {
    const rows = requests.map((request) => {
      const row = new RowState(request.mode, [], start.length);
      // The last prompt token already has to predict the cue's first token.
      row.queue([...request.prompt.slice(start.length), ...this.grammar.verdictCue], this.grammar.verdictCue.length);
      return row;
    });

    const prefillStart = performance.now();
    let step = await this.forwardPending(rows, start, this.prefillChunk);
    const prefillSeconds = (performance.now() - prefillStart) / 1000;

    const decodeStart = performance.now();
    let decodeSteps = 0;
    try {
      this.afterPass(rows, step.logits);
      while (rows.some((row) => row.phase !== 'done')) {
        step = await this.forwardPending(rows, step.cache, Number.MAX_SAFE_INTEGER);
        decodeSteps += 1;
        this.afterPass(rows, step.logits);
      }
    } finally {
      this.session.discard(step.cache);
    }
    return {
      answers: rows.map((row) => ({
        safetyLevel: row.level,
        levelLogits: row.levelLogits,
        categories: row.categories,
        refusal: row.refusal,
        answerTokens: this.grammar.answerLength(row.mode, row.level, row.categories, row.refusal),
        cachedTokens: start.length,
        ...(row.error && { error: row.error }),
      })),
      prefillSeconds,
      decodeSeconds: (performance.now() - decodeStart) / 1000,
      decodeSteps,
    };
  }

  /** Checks what the pass fed and moves every unfinished row on from its last position's logits. */
  private afterPass(rows: RowState[], logits: Tensor): void {
    rows.forEach((row, i) => {
      if (row.phase === 'done') return;
      if (this.verifyFormat && !this.forcedTokensAgree(row, logits, i)) return row.fail('a fixed part of the answer');
      this.advance(row, lastPositionLogits(logits, i));
    });
  }

  /** The row's forced tokens sit at the end of the pass: each must be the model's greedy pick after the one before. */
  private forcedTokensAgree(row: RowState, logits: Tensor, index: number): boolean {
    const columns = logits.dims[1];
    const { pending, forcedTail } = row;
    for (let k = pending.length - forcedTail; k < pending.length; k++) {
      // Column of the token before pending[k], counted from the right edge every row shares.
      const column = columns - 1 - (pending.length - k);
      if (argmaxVocabulary(positionLogits(logits, index, column)) !== pending[k]) return false;
    }
    return true;
  }

  /** The constrained pick; when verifying, the model's unconstrained pick must be the same token. */
  private choose(row: RowState, logits: LogitsRow, allowed: readonly number[]): number | undefined {
    const chosen = argmaxAmong(logits, allowed);
    if (this.verifyFormat && argmaxVocabulary(logits) !== chosen) {
      row.fail(`a ${row.phase} choice`);
      return undefined;
    }
    return chosen;
  }

  /** Chooses the row's next token from `logits` and queues the tokens the answer continues with. */
  private advance(row: RowState, logits: LogitsRow): void {
    const grammar = this.grammar;
    switch (row.phase) {
      case 'level': {
        row.levelLogits = grammar.levelChoices.map((id) => logits(id));
        const chosen = this.choose(row, logits, grammar.levelChoices);
        if (chosen === undefined) return;
        row.level = SAFETY_LEVELS[grammar.levelChoices.indexOf(chosen)];
        if (row.level === 'safe') return this.finishSafe(row);
        row.phase = 'category';
        return this.enterCategory(row, grammar.categoryRoot(row.mode), [...grammar.levelTokens[row.level], ...grammar.categoriesCue]);
      }
      case 'category':
        return this.chooseCategoryToken(row, logits);
      case 'refusal': {
        const { yes, no } = grammar.refusalTokens;
        const chosen = this.choose(row, logits, [yes, no]);
        if (chosen === undefined) return;
        row.refusal = chosen === yes;
        return row.finish();
      }
      default:
        return row.finish();
    }
  }

  /** `Categories: None` needs no model pass; a reply still gets its refusal line read. */
  private finishSafe(row: RowState): void {
    const grammar = this.grammar;
    if (row.mode === 'prompt') return row.finish();
    row.queue([...grammar.levelTokens.safe, ...grammar.categoriesCue, ...grammar.noneTokens, ...grammar.refusalCue]);
    row.phase = 'refusal';
  }

  private chooseCategoryToken(row: RowState, logits: LogitsRow): void {
    const cursor = row.cursor!;
    const completed = cursor.completed;
    const closing = completed ? [...(cursor.moreAvailable ? [this.grammar.separator] : []), this.grammar.categoriesEnd(row.mode)] : [];
    const chosen = this.choose(row, logits, [...cursor.allowed, ...closing]);
    if (chosen === undefined) return;
    if (!closing.includes(chosen)) return this.enterCategory(row, cursor.next(chosen), [chosen]);
    if (completed !== 'None') row.categories.push(completed as RiskCategory);
    if (chosen === this.grammar.separator) return this.enterCategory(row, this.grammar.nextCategory(row.mode, cursor), [chosen]);
    if (row.mode === 'prompt') return row.finish();
    row.queue([...this.grammar.refusalCue]);
    row.phase = 'refusal';
  }

  /**
   * Queues `tokens` (what was just chosen, and the fixed text after it), moves to `cursor`, and follows
   * every token the category vocabulary leaves no choice about, so they ride in the same pass.
   */
  private enterCategory(row: RowState, cursor: CategoryCursor, tokens: number[]): void {
    let current = cursor;
    for (let forced = current.forced; forced !== undefined; forced = current.forced) {
      tokens.push(forced);
      current = current.next(forced);
    }
    row.cursor = current;
    // From the level step the whole run is forced text (the level's first token was the checked choice).
    row.queue(tokens);
  }

  /**
   * One forward pass over every row's pending tokens, left-padded to a common length, in chunks of at most
   * `rowChunk` tokens a row and `batchPositions` positions a pass (never under MIN_ROW_CHUNK a row, so the
   * last chunk still holds every forced token).
   */
  private async forwardPending(rows: RowState[], cache: KvCache, rowChunk: number): Promise<{ logits: Tensor; cache: KvCache }> {
    const chunk = Math.min(rowChunk, Math.max(MIN_ROW_CHUNK, Math.floor(this.batchPositions / rows.length)));
    const width = Math.max(...rows.map((row) => row.pending.length));
    let current = cache;
    let result: { logits: Tensor; cache: KvCache } | null = null;
    // Only the last position and the forced tokens before it are read (afterPass), and of those only the
    // ids a choice compares plus the best id (the forced-token and greedy-agreement checks).
    const read = { positions: 1 + Math.max(...rows.map((row) => row.forcedTail)), ids: this.grammar.choiceIds };
    // The first chunk takes the remainder, so the last one is whole and holds every forced token.
    for (let offset = 0, columns = width % chunk || chunk; offset < width; offset += columns, columns = chunk) {
      result = await this.session.forward(this.buildStep(rows, width, offset, Math.min(columns, width - offset)), current, read);
      current = result.cache;
    }
    return result!;
  }

  /** Columns [offset, offset + columns) of the left-padded `width`-token block every row feeds. */
  private buildStep(rows: RowState[], width: number, offset: number, columns: number): ForwardStep {
    const batch = rows.length;
    const past = rows[0].mask.length;
    const inputIds = new BigInt64Array(batch * columns);
    const positionIds = new BigInt64Array(batch * columns);
    rows.forEach((row, r) => {
      const padding = width - row.pending.length;
      for (let c = 0; c < columns; c++) {
        const column = offset + c;
        const real = column >= padding;
        inputIds[r * columns + c] = real ? BigInt(row.pending[column - padding]) : 0n;
        positionIds[r * columns + c] = BigInt(row.position);
        row.mask.push(real ? 1 : 0);
        if (real) row.position += 1;
      }
    });
    const total = past + columns;
    const attentionMask = new BigInt64Array(batch * total);
    rows.forEach((row, r) => row.mask.forEach((bit, i) => (attentionMask[r * total + i] = BigInt(bit))));
    return { batch, sequenceLength: columns, inputIds, attentionMask, positionIds };
  }
}
