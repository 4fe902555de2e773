import { Tokenizer } from '@huggingface/tokenizers';
import { DecoderSession } from './decoder-session';
import { EngineError, EngineErrorCode } from './engine-error';
import { EngineObserver, NOOP_ENGINE_OBSERVER } from './engine-observer';
import { GreedyPlan, greedyGenerate } from './greedy-decoder';
import { ModelDirectory, readModelDirectory } from './model-directory';
import { ModelInfo, ModerationEngine } from './moderation-engine';
import { EngineLogger, OnnxEngineOptions } from './onnx-engine-options';
import { PromptEncoder } from './prompt-encoder';
import { ModerationInput, SafetyLevel, SAFETY_LEVELS, Verdict } from './verdict';
import { parseAnswer } from './verdict-parser';

const SILENT: EngineLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };
/** The text a verdict starts with and the first word of each level, as the model writes them. */
const VERDICT_CUE = 'Safety:';
const LEVEL_WORDS: Record<SafetyLevel, string> = { safe: ' Safe', controversial: ' Controversial', unsafe: ' Unsafe' };
const WARM_UP: ModerationInput = { messages: [{ role: 'user', content: 'Warm-up request.' }] };

interface LoadedModel {
  directory: ModelDirectory;
  session: DecoderSession;
  encoder: PromptEncoder;
  plan: GreedyPlan;
  contextLength: number;
  info: ModelInfo;
}

/**
 * Qwen3Guard-Gen on onnxruntime-node: the model's own template and tokenizer, greedy decoding with a
 * KV cache, and the verdict read from the generated text; the level probabilities come from the
 * logits right after `Safety:`. Requests run one at a time on the session, in arrival order; each input
 * is its own batch of one (until a batcher exists), and the observer sees the queue, every batch and verdict.
 */
export class OnnxModerationEngine extends ModerationEngine {
  private model: LoadedModel | null = null;
  private warmedUp = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Inputs accepted by `moderate` whose turn on the session has not come yet. */
  private waiting = 0;

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

  get ready(): boolean {
    return this.model !== null && this.warmedUp;
  }

  async load(): Promise<void> {
    const started = performance.now();
    try {
      await this.loadAndWarmUp();
    } catch (error) {
      this.observer.engineError(error instanceof EngineError ? error.code : EngineErrorCode.ModelInvalid);
      this.observer.modelUnloaded();
      throw error;
    }
    this.observer.modelLoaded(this.info, (performance.now() - started) / 1000);
  }

  private async loadAndWarmUp(): Promise<void> {
    const directory = readModelDirectory(this.options.modelDir, this.options.dtype);
    const session = await DecoderSession.open(
      directory.onnxPath,
      directory.config,
      this.options.provider,
      this.options.intraOpThreads ?? 0,
      this.logger,
    );
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    this.model = {
      directory,
      session,
      encoder,
      plan: this.greedyPlan(directory, encoder),
      contextLength: directory.config.max_position_embeddings ?? Number.MAX_SAFE_INTEGER,
      info: {
        id: this.options.modelId ?? directory.name,
        dtype: directory.dtypeFromFileName ? this.options.dtype : session.io.kvDtype === 'float16' ? 'fp16' : 'fp32',
        provider: session.provider,
        demo: this.options.demo,
        directory: directory.root,
      },
    };
    this.logger.log(
      `loaded ${directory.onnxPath} on the ${session.provider} execution provider ` +
        `(${session.io.layers.length} layers, KV ${session.io.kvDtype}, ${session.io.hasPositionIds ? 'optimum' : 'genai'} I/O)`,
    );
    // The warm-up is not a request: nothing of it is reported.
    await this.enqueue(this.model, [WARM_UP], NOOP_ENGINE_OBSERVER);
    this.warmedUp = true;
  }

  async moderate(inputs: ModerationInput[]): Promise<Verdict[]> {
    if (!this.model || !this.ready) {
      this.observer.engineError(EngineErrorCode.ModelNotReady);
      throw notReady();
    }
    return this.enqueue(this.model, inputs, this.observer);
  }

  /**
   * Requests run one after another on the session, in arrival order. An input waits in the queue until its
   * own turn (the inputs of one request run one after another too); when a request fails, its inputs that
   * never ran leave the queue with it.
   */
  private enqueue(model: LoadedModel, inputs: ModerationInput[], observer: EngineObserver): Promise<Verdict[]> {
    const enqueuedAt = performance.now();
    this.changeWaiting(inputs.length, observer);
    const run = this.queue.then(async () => {
      let notStarted = inputs.length;
      try {
        const verdicts: Verdict[] = [];
        for (const input of inputs) {
          notStarted -= 1;
          this.changeWaiting(-1, observer);
          observer.queueWait((performance.now() - enqueuedAt) / 1000);
          verdicts.push(await this.moderateOne(model, input, observer));
        }
        return verdicts;
      } catch (error) {
        observer.engineError(error instanceof EngineError ? error.code : EngineErrorCode.InferenceFailed);
        throw error;
      } finally {
        if (notStarted > 0) this.changeWaiting(-notStarted, observer);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private changeWaiting(delta: number, observer: EngineObserver): void {
    this.waiting += delta;
    observer.queueDepth(this.waiting);
  }

  async close(): Promise<void> {
    const model = this.model;
    this.model = null;
    const wasServing = this.warmedUp;
    this.warmedUp = false;
    if (wasServing) this.observer.modelUnloaded();
    await this.queue;
    await model?.session.close();
  }

  private async moderateOne(model: LoadedModel, input: ModerationInput, observer: EngineObserver): Promise<Verdict> {
    const started = performance.now();
    const mode = PromptEncoder.modeOf(input.messages);
    const prompt = model.encoder.encode(input.messages);
    const tokenizeSeconds = (performance.now() - started) / 1000;
    if (prompt.length + model.plan.maxNewTokens > model.contextLength) {
      throw new EngineError(
        EngineErrorCode.InputTooLong,
        `the conversation takes ${prompt.length} tokens; this model's context allows ${model.contextLength - model.plan.maxNewTokens}`,
      );
    }
    const generated = await greedyGenerate(model.session, prompt, model.plan);
    observer.batchExecuted({
      size: 1,
      prefillSeconds: generated.prefillSeconds,
      decodeSeconds: generated.decodeSeconds,
      promptTokens: prompt.length,
      cachedTokens: 0, // no prefix cache yet: every prompt token is computed
      generatedTokens: generated.tokens.length,
    });
    const answer = parseAnswer(model.encoder.decode(generated.tokens), mode);
    if (!generated.verdictLogits) {
      throw new EngineError(EngineErrorCode.UnparseableOutput, 'the model never wrote the `Safety:` cue');
    }
    observer.verdict(answer.safetyLevel, answer.categories);
    return {
      mode,
      ...answer,
      probabilities: softmaxByLevel(generated.verdictLogits),
      promptTokens: prompt.length,
      generatedTokens: generated.tokens.length,
      timings: {
        tokenizeSeconds,
        prefillSeconds: generated.prefillSeconds,
        decodeSeconds: generated.decodeSeconds,
        totalSeconds: (performance.now() - started) / 1000,
      },
    };
  }

  private greedyPlan(directory: ModelDirectory, encoder: PromptEncoder): GreedyPlan {
    const stopIds = new Set<number>([
      ...asList(directory.config.eos_token_id),
      ...asList(directory.generationConfig?.eos_token_id),
      ...encoder.tokenize('<|im_end|>'),
    ]);
    return {
      maxNewTokens: this.options.maxNewTokens,
      stopIds,
      verdictCue: encoder.tokenize(VERDICT_CUE),
      verdictTokens: SAFETY_LEVELS.map((level) => encoder.tokenize(LEVEL_WORDS[level])[0]),
    };
  }

}

function notReady(): EngineError {
  return new EngineError(EngineErrorCode.ModelNotReady, 'the model is not loaded yet');
}

function asList(value: number | number[] | undefined): number[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Softmax over the three verdict logits (max-subtracted for stability), keyed by level. */
export function softmaxByLevel(logits: readonly number[]): Record<SafetyLevel, number> {
  const max = Math.max(...logits);
  const exps = logits.map((value) => Math.exp(value - max));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return Object.fromEntries(SAFETY_LEVELS.map((level, i) => [level, exps[i] / total])) as Record<SafetyLevel, number>;
}
