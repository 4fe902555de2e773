import { Tokenizer } from '@huggingface/tokenizers';
import { AnswerGrammar } from './answer-format/answer-grammar';
import { BatchScheduler } from './batch-scheduler';
import { ConstrainedAnswer, ConstrainedDecoder } from './decoding/constrained-decoder';
import { DecoderSession, KvCache } from './runtime/decoder-session';
import { EngineError, EngineErrorCode } from './engine-error';
import { EngineObserver, NOOP_ENGINE_OBSERVER } from './engine-observer';
import { GreedyPlan, greedyGenerate } from './decoding/greedy-decoder';
import { ModelDirectory, readModelDirectory } from './model-format/model-directory';
import { defaultDirectoryDtype, DtypeChoice } from './model-format/default-dtype';
import { ModelInfo, ModerationEngine } from './moderation-engine';
import { DEFAULT_BATCHING, EngineLogger, OnnxEngineOptions } from './onnx-engine-options';
import { PrefixCache } from './decoding/prefix-cache';
import { PromptEncoder } from './answer-format/prompt-encoder';
import { ModerationInput, ModerationMode, SafetyLevel, SAFETY_LEVELS, Verdict } from './verdict';
import { parseAnswer } from './answer-format/verdict-parser';
import { frameAnswer, StreamedAnswer } from './answer-format/streamed-answer';
import { ModerationStream } from './moderation-stream';
import { OnnxModerationStream, StreamWork } from './onnx-moderation-stream';
import { PREFILL_CHUNK_TOKENS, prefill } from './decoding/prefill';
import { ChatMessage } from './verdict';

const SILENT: EngineLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
const WARM_UP: ModerationInput = { messages: [{ role: 'user', content: 'Warm-up request.' }] };

/** An input tokenized on the caller's turn, waiting for a batch. */
interface QueuedInput {
  mode: ModerationMode;
  prompt: number[];
  tokenizeSeconds: number;
  acceptedAt: number;
  /** A stream's check: it starts from that stream's own KV cache, so it never shares a batch. */
  stream?: { id: number; work: StreamWork };
}

/** What one batch produced for one input, before it becomes a Verdict. */
interface BatchRow {
  safetyLevel: SafetyLevel;
  categories: Verdict['categories'];
  refusal: boolean | null;
  levelLogits: readonly number[];
  cachedTokens: number;
  generatedTokens: number;
}

interface BatchOutcome {
  /** One per input; an EngineError fails that input alone. */
  rows: Array<BatchRow | EngineError>;
  prefillSeconds: number;
  decodeSeconds: number;
}

interface LoadedModel {
  session: DecoderSession;
  encoder: PromptEncoder;
  grammar: AnswerGrammar;
  plan: GreedyPlan;
  prefixes: PrefixCache | null;
  decoder: ConstrainedDecoder | null;
  scheduler: BatchScheduler<QueuedInput, Verdict>;
  contextLength: number;
  info: ModelInfo;
}

/**
 * Qwen3Guard-Gen on onnxruntime-node: the model's own template and tokenizer, a KV cache, and the verdict
 * read at the position after `Safety:`. Three speed-ups, each behind its option and on by default:
 * the template's fixed preamble is computed once per mode (PrefixCache); the answer is decoded only
 * where the format leaves a choice (ConstrainedDecoder); concurrent inputs of one mode share a padded
 * batch (BatchScheduler). With all three off the engine prefills the whole prompt, generates greedily
 * and parses the text, the reference the equivalence suite holds the fast path to.
 */
export class OnnxModerationEngine extends ModerationEngine {
  private model: LoadedModel | null = null;
  private warmedUp = false;
  /** Requests answered INFERENCE_TIMEOUT whose inference has not returned yet: while any is, the model is stalled. */
  private overdue = 0;

  constructor(
    private readonly options: OnnxEngineOptions,
    private readonly logger: EngineLogger = SILENT,
    private readonly observer: EngineObserver = NOOP_ENGINE_OBSERVER,
  ) {
    super();
  }

  get info(): ModelInfo {
    if (!this.model) throw notReady();
    return this.model.info;
  }

  /** Loaded, warmed up, and not stalled on an inference past its deadline. */
  get ready(): boolean {
    return this.model !== null && this.warmedUp && this.overdue === 0;
  }

  async load(): Promise<void> {
    const started = performance.now();
    try {
      this.model = await this.loadModel();
      // The warm-up is not a request: it bypasses the queue and nothing of it is reported.
      const [warmUp] = await this.runBatch(this.model, [this.accept(this.model, WARM_UP)], NOOP_ENGINE_OBSERVER);
      if (warmUp instanceof EngineError) throw warmUp;
      this.warmedUp = true;
    } catch (error) {
      this.observer.engineError(error instanceof EngineError ? error.code : EngineErrorCode.ModelInvalid);
      this.observer.modelUnloaded();
      throw error;
    }
    this.observer.modelLoaded(this.info, (performance.now() - started) / 1000);
  }

  async moderate(inputs: ModerationInput[]): Promise<Verdict[]> {
    const model = this.model;
    if (!model || !this.warmedUp) {
      this.observer.engineError(EngineErrorCode.ModelNotReady);
      throw notReady();
    }
    try {
      model.scheduler.admit(inputs.length);
      return await this.withinDeadline(model.scheduler.submit(inputs.map((input) => this.accept(model, input))));
    } catch (error) {
      this.countDecidedHere(error);
      throw error;
    }
  }

  /** Failures inside a batch were counted where they happened; these three are decided before or around it. */
  private countDecidedHere(error: unknown): void {
    const decidedHere = [EngineErrorCode.QueueFull, EngineErrorCode.InputTooLong, EngineErrorCode.InferenceTimeout];
    if (error instanceof EngineError && decidedHere.includes(error.code)) this.observer.engineError(error.code);
  }

  /**
   * The verdicts, or INFERENCE_TIMEOUT once `inferenceTimeoutMs` has passed. The inference cannot be
   * cancelled: it keeps the model busy, so the engine counts as not ready (readiness fails and traffic
   * moves elsewhere) until it settles, whatever its outcome.
   */
  private withinDeadline(verdicts: Promise<Verdict[]>): Promise<Verdict[]> {
    const limitMs = this.options.inferenceTimeoutMs;
    if (limitMs === undefined) return verdicts;
    return new Promise<Verdict[]>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.overdue++;
        reject(new EngineError(EngineErrorCode.InferenceTimeout, `no verdict within ${limitMs} ms`));
      }, limitMs);
      const settle = () => {
        clearTimeout(timer);
        if (late) this.overdue--;
      };
      verdicts.then(
        (result) => {
          settle();
          resolve(result);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  override openStream(messages: readonly ChatMessage[]): ModerationStream {
    const model = this.model;
    if (!model || !this.warmedUp) throw notReady();
    if (messages.length === 0 || PromptEncoder.modeOf(messages) !== 'prompt')
      throw new Error("a moderation stream opens on a conversation that ends with the user's turn");
    const answer = new StreamedAnswer(model.encoder, frameAnswer(model.encoder, messages));
    return new OnnxModerationStream(answer, {
      check: async (id, work) => {
        const item: QueuedInput = { ...this.queued(model, 'response', work.prompt, performance.now()), stream: { id, work } };
        try {
          model.scheduler.admit(1);
          const [verdict] = await this.withinDeadline(model.scheduler.submit([item]));
          return verdict;
        } catch (error) {
          this.countDecidedHere(error);
          throw error;
        }
      },
      discard: (cache) => model.session.discard(cache),
    });
  }

  async close(): Promise<void> {
    const model = this.model;
    const wasServing = this.warmedUp;
    this.warmedUp = false;
    if (wasServing) this.observer.modelUnloaded();
    if (!model) return;
    await model.scheduler.drain();
    this.model = null;
    await model.session.close();
  }

  private async loadModel(): Promise<LoadedModel> {
    const choice: DtypeChoice =
      this.options.dtype !== undefined
        ? { dtype: this.options.dtype, reason: 'QWEN3GUARD_DTYPE' }
        : defaultDirectoryDtype(this.options.modelDir, this.options.provider);
    const directory = readModelDirectory(this.options.modelDir, choice.dtype);
    const session = await DecoderSession.open({
      onnxPath: directory.onnxPath,
      config: directory.config,
      provider: this.options.provider,
      intraOpThreads: this.options.intraOpThreads ?? 0,
      logger: this.logger,
      logitsToKeep: this.options.logitsToKeep ?? true,
      perTokenInt8: (this.options.int8Activations ?? 'per-token') === 'per-token',
      groupedAttention: this.options.groupedAttention ?? true,
      finiteAttentionMask: this.options.finiteAttentionMask ?? true,
    });
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    const grammar = new AnswerGrammar(encoder);
    const constrained = this.options.constrainedDecoding ?? true;
    const prefixes = (this.options.prefixCache ?? true) ? await PrefixCache.build(session, encoder) : null;
    const batching = { ...DEFAULT_BATCHING, ...this.options.batching };
    // Rows of a batch are left-padded; the optimum convention takes explicit positions for that. Exports
    // without position_ids derive positions inside their attention op, so they run one row at a time.
    const maxBatch = constrained && session.io.hasPositionIds ? batching.maxBatch : 1;
    // In a batch a rejected guess leaves a masked hole in the cache: only explicit positions keep the tokens after it in place.
    const speculate = (this.options.speculativeAnswer ?? true) && session.io.hasPositionIds;
    const model: LoadedModel = {
      session,
      encoder,
      grammar,
      plan: greedyPlan(directory, grammar, this.options.maxNewTokens),
      prefixes,
      decoder: constrained ? new ConstrainedDecoder(session, grammar, { verifyFormat: this.options.verifyAnswerFormat ?? true, speculate }) : null,
      scheduler: new BatchScheduler<QueuedInput, Verdict>({
        batching: { ...batching, maxBatch },
        keyOf: (item) => (item.stream ? `stream-${item.stream.id}` : item.mode),
        tokensOf: (item) => item.prompt.length,
        runBatch: (items) => this.runBatch(model, items, this.observer),
        events: { queueDepth: (depth) => this.observer.queueDepth(depth), queueWait: (seconds) => this.observer.queueWait(seconds) },
        queueFull: (reason) => new EngineError(EngineErrorCode.QueueFull, reason),
      }),
      contextLength: directory.config.max_position_embeddings ?? Number.MAX_SAFE_INTEGER,
      info: {
        id: this.options.modelId ?? directory.name,
        dtype: directory.dtypeFromFileName ? choice.dtype : session.io.kvDtype === 'float16' ? 'fp16' : 'fp32',
        provider: session.provider,
        demo: this.options.demo,
        directory: directory.root,
      },
    };
    this.logger.log(
      `loaded ${directory.onnxPath} (dtype ${directory.dtypeFromFileName ? choice.dtype : 'of the genai folder'}: ${choice.reason}) ` +
        `on the ${session.provider} execution provider ` +
        `(${session.io.layers.length} layers, KV ${session.io.kvDtype}, ${session.io.hasPositionIds ? 'optimum' : 'genai'} I/O; ` +
        `prefix cache ${prefixes ? `${prefixes.prefixLength('prompt')}/${prefixes.prefixLength('response')} tokens` : 'off'}, ` +
        `LM head ${session.io.logitsToKeep ? 'on the positions read' : 'on every position'}, ` +
        (session.applied.perTokenQuantizers > 0 ? `int8 activations per token (${session.applied.perTokenQuantizers} quantizers), ` : '') +
        (session.applied.finiteMaskLayers > 0 ? `a finite attention mask without NaN guards in ${session.applied.finiteMaskLayers} layers, ` : '') +
        (session.applied.groupedAttentionLayers > 0 ? `KV heads read once in ${session.applied.groupedAttentionLayers} attention layers, ` : '') +
        `${constrained ? `constrained${speculate ? ', speculative' : ''}` : 'plain greedy'} decoding, batches up to ${maxBatch})`,
    );
    return model;
  }

  /** Tokenizes on the caller's turn and refuses what cannot fit before it takes a place in the queue. */
  private accept(model: LoadedModel, input: ModerationInput): QueuedInput {
    const acceptedAt = performance.now();
    return this.queued(model, PromptEncoder.modeOf(input.messages), model.encoder.encode(input.messages), acceptedAt);
  }

  private queued(model: LoadedModel, mode: ModerationMode, prompt: number[], acceptedAt: number): QueuedInput {
    const budget = model.contextLength - model.plan.maxNewTokens;
    if (prompt.length > budget) {
      throw new EngineError(EngineErrorCode.InputTooLong, `the conversation takes ${prompt.length} tokens; this model's context allows ${budget}`);
    }
    return { mode, prompt, tokenizeSeconds: (performance.now() - acceptedAt) / 1000, acceptedAt };
  }

  private async runBatch(model: LoadedModel, items: QueuedInput[], observer: EngineObserver): Promise<Array<Verdict | EngineError>> {
    const started = performance.now();
    try {
      const outcome = items[0].stream
        ? await this.runStreamCheck(model, items[0])
        : model.decoder
          ? await this.runConstrained(model, model.decoder, items, observer)
          : await this.runGreedy(model, items, observer);
      const answered = outcome.rows.filter((row): row is BatchRow => !(row instanceof EngineError));
      observer.batchExecuted({
        size: items.length,
        prefillSeconds: outcome.prefillSeconds,
        decodeSeconds: outcome.decodeSeconds,
        promptTokens: sum(items.map((item) => item.prompt.length)),
        cachedTokens: sum(answered.map((row) => row.cachedTokens)),
        generatedTokens: sum(answered.map((row) => row.generatedTokens)),
      });
      return outcome.rows.map((row, i) => {
        if (row instanceof EngineError) {
          observer.engineError(row.code);
          return row;
        }
        return toVerdict(items[i], row, outcome, started);
      });
    } catch (error) {
      observer.engineError(error instanceof EngineError ? error.code : EngineErrorCode.InferenceFailed);
      throw error;
    }
  }

  /** One pass per group: rows the prefix cache covers start from it, the others from nothing. */
  private async runConstrained(model: LoadedModel, decoder: ConstrainedDecoder, items: QueuedInput[], observer: EngineObserver): Promise<BatchOutcome> {
    const mode = items[0].mode;
    const covered = items.map((item) => this.lookupPrefix(model, item, observer));
    const rows = new Array<BatchRow | EngineError>(items.length);
    let prefillSeconds = 0;
    let decodeSeconds = 0;
    for (const hit of [true, false]) {
      const indices = items.map((_, i) => i).filter((i) => covered[i] === hit);
      if (indices.length === 0) continue;
      const start = hit ? await model.prefixes!.cacheFor(mode, indices.length) : model.session.emptyCache(indices.length);
      const result = await decoder.run(
        indices.map((i) => items[i]),
        start,
      );
      result.answers.forEach((answer, j) => (rows[indices[j]] = answer.error ?? fromConstrained(answer)));
      prefillSeconds += result.prefillSeconds;
      decodeSeconds += result.decodeSeconds;
    }
    return { rows, prefillSeconds, decodeSeconds };
  }

  /**
   * A stream's check: its cache is brought up to the committed ids (recomputed from the template prefix after
   * an eviction), then the rest of the prompt (uncommitted answer tokens and the template's tail) is decoded
   * from a borrowed view of it, so the tail's keys and values are dropped with the decoder's last pass.
   */
  private async runStreamCheck(model: LoadedModel, item: QueuedInput): Promise<BatchOutcome> {
    const { work } = item.stream!;
    const prefillStarted = performance.now();
    let cache = work.cache ?? (model.prefixes?.covers('response', item.prompt) ? await model.prefixes.cacheFor('response', 1) : model.session.emptyCache(1));
    const reused = cache.length;
    if (work.committedLength > cache.length) {
      work.keep(null); // the pass consumes it (and frees it if it fails)
      const committed = item.prompt.slice(0, work.committedLength);
      cache = (await prefill(model.session, committed, PREFILL_CHUNK_TOKENS, cache, { positions: 1, ids: [] })).cache;
    }
    work.keep(cache);
    const commitSeconds = (performance.now() - prefillStarted) / 1000;
    const start: KvCache = { ...cache, shared: true };
    if (model.decoder) {
      const result = await model.decoder.run([item], start);
      const [answer] = result.answers;
      const row = answer.error ?? { ...fromConstrained(answer), cachedTokens: reused };
      return { rows: [row], prefillSeconds: commitSeconds + result.prefillSeconds, decodeSeconds: result.decodeSeconds };
    }
    const generated = await greedyGenerate(model.session, item.prompt, model.plan, start);
    const row = this.readGreedyAnswer(model, item, generated, reused);
    return { rows: [row], prefillSeconds: commitSeconds + generated.prefillSeconds, decodeSeconds: generated.decodeSeconds };
  }

  /** Plain greedy generation, one input at a time, its text parsed strictly. */
  private async runGreedy(model: LoadedModel, items: QueuedInput[], observer: EngineObserver): Promise<BatchOutcome> {
    const rows: Array<BatchRow | EngineError> = [];
    let prefillSeconds = 0;
    let decodeSeconds = 0;
    for (const item of items) {
      const start: KvCache = this.lookupPrefix(model, item, observer) ? await model.prefixes!.cacheFor(item.mode, 1) : model.session.emptyCache(1);
      const generated = await greedyGenerate(model.session, item.prompt, model.plan, start);
      prefillSeconds += generated.prefillSeconds;
      decodeSeconds += generated.decodeSeconds;
      rows.push(this.readGreedyAnswer(model, item, generated, start.length));
    }
    return { rows, prefillSeconds, decodeSeconds };
  }

  private readGreedyAnswer(
    model: LoadedModel,
    item: QueuedInput,
    generated: Awaited<ReturnType<typeof greedyGenerate>>,
    cachedTokens: number,
  ): BatchRow | EngineError {
    try {
      const answer = parseAnswer(model.encoder.decode(generated.tokens), item.mode);
      if (!generated.verdictLogits) throw new EngineError(EngineErrorCode.UnparseableOutput, 'the model never wrote the `Safety:` cue');
      return { ...answer, levelLogits: generated.verdictLogits, cachedTokens, generatedTokens: generated.tokens.length };
    } catch (error) {
      if (error instanceof EngineError) return error;
      throw error;
    }
  }

  private lookupPrefix(model: LoadedModel, item: QueuedInput, observer: EngineObserver): boolean {
    if (!model.prefixes) return false;
    const hit = model.prefixes.covers(item.mode, item.prompt);
    observer.prefixCacheLookup(hit);
    return hit;
  }
}

function greedyPlan(directory: ModelDirectory, grammar: AnswerGrammar, maxNewTokens: number): GreedyPlan {
  const stopIds = new Set<number>([...asList(directory.config.eos_token_id), ...asList(directory.generationConfig?.eos_token_id), grammar.end]);
  return { maxNewTokens, stopIds, verdictCue: grammar.verdictCue, verdictTokens: grammar.levelChoices };
}

function fromConstrained(answer: ConstrainedAnswer): BatchRow {
  return { ...answer, generatedTokens: answer.answerTokens };
}

function toVerdict(item: QueuedInput, row: BatchRow, outcome: BatchOutcome, batchStarted: number): Verdict {
  return {
    mode: item.mode,
    safetyLevel: row.safetyLevel,
    categories: row.categories,
    refusal: row.refusal,
    probabilities: softmaxByLevel(row.levelLogits),
    promptTokens: item.prompt.length,
    cachedTokens: row.cachedTokens,
    generatedTokens: row.generatedTokens,
    timings: {
      queueSeconds: (batchStarted - item.acceptedAt) / 1000 - item.tokenizeSeconds,
      tokenizeSeconds: item.tokenizeSeconds,
      prefillSeconds: outcome.prefillSeconds,
      decodeSeconds: outcome.decodeSeconds,
      totalSeconds: (performance.now() - item.acceptedAt) / 1000,
    },
  };
}

function notReady(): EngineError {
  return new EngineError(EngineErrorCode.ModelNotReady, 'the model is not loaded yet');
}

function asList(value: number | number[] | undefined): number[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** Softmax over the three verdict logits (max-subtracted for stability), keyed by level. */
export function softmaxByLevel(logits: readonly number[]): Record<SafetyLevel, number> {
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const total = exps.reduce((acc, value) => acc + value, 0);
  return Object.fromEntries(SAFETY_LEVELS.map((level, i) => [level, exps[i] / total])) as Record<SafetyLevel, number>;
}
