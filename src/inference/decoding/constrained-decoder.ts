import type { Tensor } from 'onnxruntime-node';
import { AnswerGrammar } from '../answer-format/answer-grammar';
import { AnswerWalk, ChoicePhase } from '../answer-format/answer-walk';
import { DecoderSession, ForwardStep, KvCache } from '../runtime/decoder-session';
import { PREFILL_BATCH_POSITIONS, PREFILL_CHUNK_TOKENS } from './prefill';
import { EngineError, EngineErrorCode } from '../engine-error';
import { argmaxAmong, argmaxVocabulary, LogitsRow, positionLogits } from '../runtime/logits';
import { ModerationMode, RiskCategory, SafetyLevel } from '../verdict';

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

/** Fewest tokens a row feeds per pass, whatever the batch: more than any run of answer tokens a pass reads. */
const MIN_ROW_CHUNK = 32;

/** Longest draft a pass carries after a row's decided tokens (well within MIN_ROW_CHUNK with the prompt's last token). */
const MAX_DRAFT = 24;

export interface ConstrainedDecoderOptions {
  /**
   * Hold every row to what plain greedy decoding would write (default on), at no extra pass: at each fixed
   * token a pass carries and at each choice, the model's own argmax over the whole vocabulary must agree,
   * else the row fails as unparseable, as its greedy text would. What follows the last choice is not
   * re-checked: a Safe prompt verdict ends at its level, a reply at Yes/No. Off, the format is imposed
   * (benchmarks on random weights only).
   */
  verifyFormat?: boolean;
  /**
   * Feed a guessed continuation after each row's decided tokens (default off; see ANSWER_GUESSES): every
   * guess the model confirms saves a pass, a wrong one costs only its positions, which are cut off a lone
   * row's cache and masked out in a batch. Needs explicit `position_ids`: a masked hole must not shift the
   * positions after it.
   */
  speculate?: boolean;
  prefillChunk?: number;
  batchPositions?: number;
}

/** What a guess can go on: the walk ahead, the choices it has, and the row's latest reading of the names. */
interface GuessContext {
  walk: AnswerWalk;
  grammar: AnswerGrammar;
  choices: readonly number[];
  /** The logits of the names' first tokens where the model last picked a name, once a separator is written. */
  nameRanking: ReadonlyMap<number, number> | undefined;
  /** The first token of the first name in the decoder's latest answer of this mode that had one. */
  recentFirstName: number | undefined;
}

/**
 * The guess a draft makes at each kind of choice, where one is worth a position: a non-Safe level (a Safe
 * prompt verdict is complete at its level, so the guess costs it only the positions; a Safe reply's line is
 * fixed text anyway), and once a category name is complete, another name in prompt mode (its end needs no
 * further pass). In response mode the first name is guessed to be the only one, so a one-category reply reads
 * its refusal in the same pass; once a separator came, another name is guessed, which keeps any count of
 * categories at no more passes than step by step. The first name is guessed to be the one the decoder's latest
 * answer of the same mode began with: moderated traffic repeats its categories, and a confirmed guess lets a
 * one-category answer end in the prefill's pass, while a wrong one costs its few positions. Once the model has
 * written a separator, the names follow in the order the model ranked them where it last picked one, so an
 * answer of three or more categories can read several of them in one pass.
 */
const ANSWER_GUESSES: Record<ChoicePhase, (context: GuessContext) => number | undefined> = {
  level: ({ grammar }) => grammar.levelTokens.unsafe[0],
  category: ({ walk, choices, nameRanking, recentFirstName }) => {
    const closing = walk.closingTokens();
    if (closing.length > 0) return walk.mode === 'response' && walk.categories.length === 0 ? closing.at(-1) : closing[0];
    if (!walk.atNameStart) return undefined;
    // A name start's choices are a subset of the earlier one's the ranking was read at (names only get written).
    if (nameRanking) return argmaxAmong((id) => nameRanking.get(id)!, choices);
    return walk.categories.length === 0 && recentFirstName !== undefined && choices.includes(recentFirstName) ? recentFirstName : undefined;
  },
  refusal: () => undefined,
};

/** One row of the batch as it walks the answer grammar. */
class RowState {
  readonly walk: AnswerWalk;
  /** Tokens the next pass feeds: decided ones, then a draft. */
  pending: number[];
  /** Index in `pending` of the first token whose logits are read: it predicts the first undecided token. */
  readFrom: number;
  levelLogits: number[] = [];
  /** The logits of every name's first token where the model last picked a name (speculative name guesses). */
  nameLogits: Map<number, number> | undefined;
  error: EngineError | undefined;
  /** 1 for a real token, 0 for padding or a rejected draft token, for every position in the KV cache. */
  readonly mask: number[];
  /** Position id of the next real token: the count of real tokens before it. */
  position: number;

  constructor(grammar: AnswerGrammar, mode: ModerationMode, cachedLength: number) {
    this.walk = new AnswerWalk(grammar, mode);
    this.pending = [];
    this.readFrom = 0;
    this.mask = new Array<number>(cachedLength).fill(1);
    this.position = cachedLength;
  }

  get done(): boolean {
    return this.walk.done || this.error !== undefined;
  }

  /** Queues the next pass: `decided` tokens, the last of whose logits predicts what comes next, then `draft`. */
  queue(decided: number[], draft: number[]): void {
    this.pending = [...decided, ...draft];
    this.readFrom = decided.length - 1;
  }

  /**
   * Takes back the fed tokens from `pending[index]` on. `masked`: their keys and values stay in the cache,
   * unseen; otherwise they are forgotten here and the decoder cuts them off the cache before the next pass.
   */
  reject(index: number, masked: boolean): void {
    const rejected = this.pending.length - index;
    if (masked) for (let k = 0; k < rejected; k++) this.mask[this.mask.length - 1 - k] = 0;
    else this.mask.length -= rejected;
    this.position -= rejected;
  }

  finish(): void {
    this.pending = [];
    this.readFrom = 0;
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
 *
 * Speculating, a pass also carries a guessed continuation (ANSWER_GUESSES) and reads the logits at each of
 * its positions: the row moves on through every guess the model's own pick confirms, so the answer is the
 * one step-by-step decoding gives, in fewer passes. From the first guess it rejects, the rest of the draft
 * is taken back and the model's pick is fed in the next pass instead. A row alone in its batch has the taken-back
 * positions cut off the cache, so every later pass sees the cache step-by-step decoding would have built, to the
 * bit: a masked hole would shift the later keys' columns, and softmax would add the same terms in another order
 * (a last-bit difference that an int8 quantizer can turn into whole steps). Rows of a batch share one cache
 * length, so there the positions stay, masked.
 */
export class ConstrainedDecoder {
  private readonly verifyFormat: boolean;
  private readonly speculate: boolean;
  private readonly prefillChunk: number;
  private readonly batchPositions: number;
  /** Per mode, the first token of the latest answer's first name (see ANSWER_GUESSES). */
  private readonly recentFirstNames = new Map<ModerationMode, number>();

  constructor(
    private readonly session: DecoderSession,
    private readonly grammar: AnswerGrammar,
    options: ConstrainedDecoderOptions = {},
  ) {
    this.verifyFormat = options.verifyFormat ?? true;
    this.speculate = options.speculate ?? false;
    this.prefillChunk = options.prefillChunk ?? PREFILL_CHUNK_TOKENS;
    this.batchPositions = options.batchPositions ?? PREFILL_BATCH_POSITIONS;
  }

  /** All requests share `start`: the cache of their common first `start.length` prompt tokens (batch rows). */
  async run(requests: readonly ConstrainedRequest[], start: KvCache): Promise<ConstrainedBatchResult> {
    const rows = requests.map((request) => {
      const row = new RowState(this.grammar, request.mode, start.length);
      // The last prompt token already has to predict the cue's first token.
      row.queue(request.prompt.slice(start.length), this.draft(row));
      return row;
    });

    const prefillStart = performance.now();
    let step = await this.forwardPending(rows, start, this.prefillChunk);
    const prefillSeconds = (performance.now() - prefillStart) / 1000;

    const decodeStart = performance.now();
    let decodeSteps = 0;
    try {
      this.afterPass(rows, step.logits);
      while (rows.some((row) => !row.done)) {
        // A lone row's mask lists its real tokens only (see RowState.reject): the cache is cut back to them.
        if (rows.length === 1) step = { ...step, cache: await this.session.truncateCache(step.cache, rows[0].mask.length) };
        step = await this.forwardPending(rows, step.cache, Number.MAX_SAFE_INTEGER);
        decodeSteps += 1;
        this.afterPass(rows, step.logits);
      }
    } finally {
      this.session.discard(step.cache);
    }
    return {
      answers: rows.map(({ walk, levelLogits, error }) => ({
        safetyLevel: walk.level,
        levelLogits,
        categories: walk.categories,
        refusal: walk.refusal,
        answerTokens: this.grammar.answerLength(walk.mode, walk.level, walk.categories, walk.refusal),
        cachedTokens: start.length,
        ...(error && { error }),
      })),
      prefillSeconds,
      decodeSeconds: (performance.now() - decodeStart) / 1000,
      decodeSteps,
    };
  }

  /**
   * The answer's tokens from where the row's walk stands, as far as they are known without the model: the fixed
   * ones, and when speculating the guessed choices (ANSWER_GUESSES), up to the first choice nothing guesses.
   */
  private draft(row: RowState): number[] {
    const ahead = row.walk.clone();
    // Names are guessed only once the model itself has written a separator: a one-name answer carries none.
    const nameRanking = row.walk.categories.length > 0 ? row.nameLogits : undefined;
    const tokens: number[] = [];
    for (let next = ahead.next(); next !== undefined && tokens.length < MAX_DRAFT; next = ahead.next()) {
      const token =
        'forced' in next
          ? next.forced
          : this.speculate
            ? ANSWER_GUESSES[next.phase]({
                walk: ahead,
                grammar: this.grammar,
                choices: next.choices,
                nameRanking,
                recentFirstName: this.recentFirstNames.get(ahead.mode),
              })
            : undefined;
      if (token === undefined) break;
      tokens.push(token);
      ahead.accept(token);
    }
    return tokens;
  }

  /** Walks every unfinished row through the positions the pass read, then queues what it feeds next. */
  private afterPass(rows: RowState[], logits: Tensor): void {
    rows.forEach((row, i) => {
      if (row.done) return;
      const columns = logits.dims[1];
      const { pending } = row;
      for (let k = row.readFrom; k < pending.length; k++) {
        // Every row's pending tokens end at the right edge the pass shares.
        const token = this.nextToken(row, positionLogits(logits, i, columns - pending.length + k));
        if (token === undefined) return;
        row.walk.accept(token);
        if (row.walk.done) return row.finish();
        if (pending[k + 1] === token) continue;
        if (k + 1 < pending.length) row.reject(k + 1, rows.length > 1);
        return row.queue([token], this.draft(row));
      }
    });
  }

  /**
   * What the answer holds after the position `logits` belong to: the fixed token, which when verifying must be
   * the model's own greedy pick, or the constrained pick, which when verifying must be the unconstrained one
   * too. Undefined when the row fails.
   */
  private nextToken(row: RowState, logits: LogitsRow): number | undefined {
    const next = row.walk.next()!;
    if ('forced' in next) {
      if (this.verifyFormat && argmaxVocabulary(logits) !== next.forced) return void row.fail('a fixed part of the answer');
      return next.forced;
    }
    if (next.phase === 'level') row.levelLogits = next.choices.map((id) => logits(id));
    const speculatingName = this.speculate && row.walk.atNameStart;
    if (speculatingName) row.nameLogits = new Map(next.choices.map((id) => [id, logits(id)]));
    const chosen = argmaxAmong(logits, next.choices);
    if (this.verifyFormat && argmaxVocabulary(logits) !== chosen) return void row.fail(`a ${next.phase} choice`);
    if (speculatingName && row.walk.categories.length === 0) this.recentFirstNames.set(row.walk.mode, chosen);
    return chosen;
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
    // Only the positions from each row's last decided token on are read (afterPass), and of those only the
    // ids a choice compares plus the best id (the fixed-token and greedy-agreement checks).
    const read = { positions: Math.max(...rows.map((row) => row.pending.length - row.readFrom)), ids: this.grammar.choiceIds };
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
