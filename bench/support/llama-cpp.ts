import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import type { ModelDtype } from '../../src/inference';

/**
 * llama.cpp through node-llama-cpp (a dev dependency, pinned): the benchmark's column (d) and the GGUF
 * agreement suite. Only the prebuilt CPU binaries are used: no GPU, no build, no download at load.
 */
export const NODE_LLAMA_CPP = 'node-llama-cpp';

/** The GGUF counterpart of each ONNX dtype (tools/gguf/convert_to_gguf.py); q8_0 is llama.cpp's 8-bit format. */
export const GGUF_TYPES: Readonly<Partial<Record<ModelDtype, string>>> = { fp32: 'f32', fp16: 'f16', quantized: 'q8_0', int8: 'q8_0' };

export function ggufPath(modelDir: string, dtype: ModelDtype): string | undefined {
  const type = GGUF_TYPES[dtype];
  return type === undefined ? undefined : join(modelDir, 'gguf', `model-${type}.gguf`);
}

/** What gguf/manifest.json says about the converter that made the files. */
export function ggufConverter(modelDir: string): unknown {
  const manifest = join(modelDir, 'gguf', 'manifest.json');
  return existsSync(manifest) ? (JSON.parse(readFileSync(manifest, 'utf8')) as { converter?: unknown }).converter : undefined;
}

export interface LlamaCppSettings {
  /** node-llama-cpp's package version and the llama.cpp release its prebuilt binaries were built from. */
  nodeLlamaCpp: string;
  llamaCpp: string;
  binary: string;
  gguf: string;
  contextSize: number;
  batchSize: number;
  threads: number;
  flashAttention: boolean | 'auto';
  /** The KV cache's element type: llama.cpp's default is F16. */
  kvCache: string;
  gpuLayers: number;
}

export interface LlamaCppOptions {
  /** Tokens the context must hold (prompt + answer). */
  contextSize: number;
  batchSize: number;
  threads: number;
  flashAttention: boolean;
  /** Default F16, as llama.cpp runs; F32 for the agreement suite, which compares computations, not defaults. */
  kvCache?: 'F16' | 'F32';
}

/** One GGUF file loaded into one context of one sequence, evaluated on token ids we give it. */
export class LlamaCppRunner {
  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequence: LlamaContextSequence,
    readonly settings: LlamaCppSettings,
  ) {}

  static async open(gguf: string, options: LlamaCppOptions): Promise<LlamaCppRunner> {
    if (!existsSync(gguf)) {
      throw new Error(`${gguf} does not exist: make it with tools/gguf/convert_to_gguf.py (see docs/performance.md, "llama.cpp (d)")`);
    }
    // A specifier in a variable: node-llama-cpp is an ES module with top-level await, which tsx's CommonJS
    // transform cannot require; a dynamic import it leaves alone loads it natively.
    const specifier: string = NODE_LLAMA_CPP;
    const { getLlama, getModuleVersion, LlamaLogLevel } = (await import(specifier)) as typeof import('node-llama-cpp');
    const llama = await getLlama({
      gpu: false,
      build: 'never',
      usePrebuiltBinaries: true,
      skipDownload: true,
      progressLogs: false,
      logLevel: LlamaLogLevel.error,
    });
    const model = await llama.loadModel({ modelPath: gguf, gpuLayers: 0 });
    const context = await model.createContext({
      contextSize: options.contextSize,
      batchSize: options.batchSize,
      threads: options.threads,
      flashAttention: options.flashAttention,
      experimentalKvCacheKeyType: options.kvCache ?? 'F16',
      experimentalKvCacheValueType: options.kvCache ?? 'F16',
      sequences: 1,
    });
    const settings: LlamaCppSettings = {
      nodeLlamaCpp: await getModuleVersion(),
      llamaCpp: `${llama.llamaCppRelease.repo}@${llama.llamaCppRelease.release}`,
      binary: `${llama.buildType}, gpu ${String(llama.gpu)}`,
      gguf,
      contextSize: context.contextSize,
      batchSize: context.batchSize,
      threads: context.idealThreads,
      flashAttention: context.flashAttention,
      kvCache: options.kvCache ?? 'F16',
      gpuLayers: model.gpuLayers,
    };
    return new LlamaCppRunner(llama, model, context, context.getSequence(), settings);
  }

  /**
   * llama.cpp's best path for one verdict: the first `prefixLength` ids (the template's fixed head) stay
   * evaluated in the sequence from one call to the next; the rest (text, tail and cue) is one evaluation, then
   * `newTokens` greedy tokens are read. Returns the tokens read.
   */
  async withKeptPrefix(prompt: readonly number[], prefixLength: number, newTokens: number): Promise<number[]> {
    const kept = this.sequence.contextTokens;
    const reusable = kept.length >= prefixLength && prompt.slice(0, prefixLength).every((id, i) => kept[i] === id);
    if (!reusable) {
      await this.sequence.clearHistory();
      await this.sequence.evaluateWithoutGeneratingNewTokens(prompt.slice(0, prefixLength) as never);
    } else if (this.sequence.nextTokenIndex > prefixLength) {
      await this.sequence.eraseContextTokenRanges([{ start: prefixLength, end: this.sequence.nextTokenIndex }]);
    }
    return this.greedy(prompt.slice(prefixLength), newTokens);
  }

  /** Plain generation: an empty sequence, the whole prompt evaluated, `newTokens` greedy tokens read. */
  async fromScratch(prompt: readonly number[], newTokens: number): Promise<number[]> {
    await this.sequence.clearHistory();
    return this.greedy(prompt, newTokens);
  }

  /** Logits-free check of the prefix state: the ids the sequence holds now. */
  get heldTokens(): readonly number[] {
    return this.sequence.contextTokens;
  }

  /** The next-token probabilities after `prompt` (evaluated from scratch), for the agreement suite. */
  async nextTokenProbabilities(prompt: readonly number[]): Promise<Map<number, number>> {
    await this.sequence.clearHistory();
    const input = prompt.map((id, i) => (i === prompt.length - 1 ? ([id, { generateNext: { probabilities: true, token: true } }] as const) : id));
    const output = await this.sequence.controlledEvaluate(input as never);
    return output[prompt.length - 1]!.next.probabilities as Map<number, number>;
  }

  private async greedy(tokens: readonly number[], newTokens: number): Promise<number[]> {
    const read: number[] = [];
    if (newTokens <= 0) {
      await this.sequence.evaluateWithoutGeneratingNewTokens(tokens as never);
      return read;
    }
    // temperature 0: greedy, with no repeat penalty, bias or grammar (none is set).
    for await (const token of this.sequence.evaluate(tokens as never, { temperature: 0 })) {
      read.push(token);
      if (read.length === newTokens) break;
    }
    return read;
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}
