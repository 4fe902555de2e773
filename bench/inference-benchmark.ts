/**
 * Side-by-side inference benchmark (issue: fast inference). On one model directory, in one run:
 *   (a) this engine, everything on (prefix KV cache, verdict-constrained decoding, dynamic batching);
 *   (b) the usual way: the whole template prefilled, plain greedy generation with a KV cache;
 *   (c) @huggingface/transformers' text-generation pipeline on the same directory (`npm run bench:setup`
 *       installs it once: plain `npm ci` leaves it out, see support/transformers-js.ts);
 *   (d) llama.cpp (node-llama-cpp, CPU) on GGUF files of the same weights made by llama.cpp's own converter
 *       (tools/gguf/convert_to_gguf.py: fp32 against f32, fp16 against f16, int8 against q8_0), fed our exact
 *       prompt ids: its best path (the template prefix kept evaluated, one evaluation of text + tail + cue, then
 *       the answer read greedily) and its plain generation from scratch.
 * Random weights never stop by themselves, so (b), (c) and (d) generate exactly as many tokens as the answer
 * (a) returned for the same input would take. Also measured: the best float32 and int8 GEMM rates onnxruntime
 * reaches here, and the engine's prefill rate as a fraction of the one of its dtype.
 *
 *   npm run bench -- [--model models/qwen3guard-gen-0.6b-synthetic] [--dtype fp32 --dtype fp16] [--length 256 ...] [--concurrency 4 ...] [--system a --system d ...] [--quick] [--full-logits]
 *       [--llama-batch 512] [--llama-threads N] [--llama-flash-attention] [--int8-activations per-pass] [--max-batch 16]
 *
 * Writes bench/results/inference-<date>T<hhmm>-<dtypes>-<lengths>-c<concurrencies>[-full-logits].json after every cell and prints each cell;
 * docs/performance.md quotes them.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import {
  AnswerGrammar,
  DecoderSession,
  BatchReport,
  EngineObserver,
  prefill,
  argmaxVocabulary,
  lastPositionLogits,
  readModelDirectory,
  ModelDtype,
  INT8_ACTIVATION_SCALES,
  Int8ActivationScale,
  OnnxModerationEngine,
  PromptEncoder,
  ModerationInput,
  measureTemplateLengths,
} from '../src/inference';
import { SYNTHETIC_TEMPLATE_LENGTHS } from '../src/synthetic-model/chat-template';
import { writeSyntheticModelDirectory } from '../src/synthetic-model/model-directory-writer';
import { getModelPreset } from '../src/synthetic-model/model-presets';
import { Qwen3Config } from '../src/synthetic-model/qwen3-config';
import { countQwen3Parameters } from '../src/synthetic-model/qwen3-weight-layout';
import { createSeededWeights } from '../src/synthetic-model/seeded-weights';
import { measureGemmLimit } from './gemm-limit';
import { conversation } from './support/bench-texts';
import { BenchMode, InferenceCell, InferenceResults, runProvenance } from './support/inference-results';
import { LlamaCppRunner, LlamaCppSettings, ggufConverter, ggufPath } from './support/llama-cpp';
import { loadTransformersJs } from './support/transformers-js';

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/qwen3guard-gen-0.6b-synthetic' },
      dtype: { type: 'string', multiple: true, default: ['fp32'] },
      quick: { type: 'boolean', default: false },
      /** Text lengths to run (repeatable); by default 16, 64, 256 and 1,024 (16 and 64 with --quick). */
      length: { type: 'string', multiple: true },
      /** Concurrencies to run (repeatable); by default 1, 4 and 16 (1 and 16 with --quick). (b) and (c) run at 1 only. */
      concurrency: { type: 'string', multiple: true },
      out: { type: 'string', default: 'bench/results' },
      /** Systems to run (repeatable: a, b, c, d); all by default. (a) always runs: the others copy its answer lengths. */
      system: { type: 'string', multiple: true, default: ['a', 'b', 'c', 'd'] },
      /** (a) with its LM head on every position, as exported (logitsToKeep off): the technique's own share. */
      'full-logits': { type: 'boolean', default: false },
      /** (a)'s int8 activation scales: per token (the engine's default) or per pass, as the file was exported. */
      'int8-activations': { type: 'string', default: 'per-token' },
      /** (a)'s largest batch (the service's QWEN3GUARD_MAX_BATCH, default 8 there); 1 runs every request alone. */
      'max-batch': { type: 'string', default: '16' },
      /** (d)'s llama.cpp settings: batch size (llama.cpp's default micro-batch), threads (default: every core), flash attention. */
      'llama-batch': { type: 'string', default: '512' },
      'llama-threads': { type: 'string', default: String(cpus().length) },
      'llama-flash-attention': { type: 'boolean', default: false },
    },
  });
  const lengths = values.length?.map(Number) ?? (values.quick ? [16, 64] : [16, 64, 256, 1024]);
  const concurrencies = values.concurrency?.map(Number) ?? (values.quick ? [1, 16] : [1, 4, 16]);
  const llama = { batchSize: Number(values['llama-batch']), threads: Number(values['llama-threads']), flashAttention: values['llama-flash-attention'] };
  const systems = new Set(values.system);
  return {
    ...values,
    systems,
    model: resolve(values.model),
    dtypes: values.dtype as ModelDtype[],
    lengths,
    concurrencies,
    logitsToKeep: !values['full-logits'],
    int8Activations: int8ActivationScale(values['int8-activations']),
    maxBatch: positiveInteger('--max-batch', values['max-batch']),
    llama,
  };
}

function positiveInteger(option: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${option} takes a whole number from 1, not ${value}`);
  return parsed;
}

function int8ActivationScale(value: string): Int8ActivationScale {
  const scale = INT8_ACTIVATION_SCALES.find((choice) => choice === value);
  if (!scale) throw new Error(`--int8-activations takes ${INT8_ACTIVATION_SCALES.join(' or ')}, not ${value}`);
  return scale;
}

/** The dtype names transformers.js gives the same ONNX files (model.onnx, model_fp16.onnx, model_quantized.onnx...). */
const TRANSFORMERS_JS_DTYPES: Readonly<Record<ModelDtype, string>> = { fp32: 'fp32', fp16: 'fp16', quantized: 'q8', int8: 'int8', q4f16: 'q4f16' };

/**
 * The 0.6B-shaped synthetic model, built once (about 40 s, 2.4 GB fp32 + 1.2 GB fp16), its weights in external
 * data files as large exports have them. A quantized variant must already be in the directory
 * (tools/reference-models/quantize_int8.py, or an optimum export's model_quantized.onnx).
 */
async function ensureBenchmarkModel(dir: string, dtypes: ModelDtype[]): Promise<void> {
  const missing = dtypes.filter((dtype) => !existsSync(join(dir, 'onnx', dtype === 'fp32' ? 'model.onnx' : `model_${dtype}.onnx`)));
  if (missing.length === 0) return;
  const unbuildable = missing.filter((dtype) => dtype !== 'fp32' && dtype !== 'fp16');
  if (unbuildable.length > 0) throw new Error(`${dir} has no ${unbuildable.join(', ')} file, and only fp32 and fp16 can be built here`);
  console.error(`building ${dir} (${missing.join(', ')}) ...`);
  await writeSyntheticModelDirectory(
    dir,
    {
      config: getModelPreset('qwen3guard-gen-0.6b'),
      weights: createSeededWeights({ seed: 0 }),
      variants: missing.map((dtype) => ({ dtype: dtype as 'fp32' | 'fp16', io: 'optimum' as const })),
    },
    { externalData: true },
  );
}

/**
 * Requests per concurrency-1 cell. Verdicts on random weights differ per input, and an Unsafe one pays a decode
 * pass per listed category while a Safe prompt pays none: a median over a handful of inputs swings with that mix.
 */
function requestsAtConcurrencyOne(textTokens: number): number {
  return textTokens >= 1024 ? 2 : textTokens >= 256 ? 4 : 8;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** Runs `jobs` with at most `concurrency` in flight; returns each job's latency and the wall time. */
async function runConcurrently(jobs: Array<() => Promise<unknown>>, concurrency: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const t = performance.now();
        await job();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  latencies.sort((x, y) => x - y);
  return { p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), throughputPerSecond: jobs.length / wallSeconds };
}

/** (b): the whole rendered prompt in one prefill pass, then greedy steps over the full vocabulary. */
async function plainGreedy(session: DecoderSession, prompt: number[], newTokens: number): Promise<void> {
  let step = await prefill(session, prompt, prompt.length, session.emptyCache(1));
  for (let generated = 1; generated < newTokens; generated++) {
    const next = argmaxVocabulary(lastPositionLogits(step.logits));
    step = await session.forward(
      {
        batch: 1,
        sequenceLength: 1,
        inputIds: BigInt64Array.from([BigInt(next)]),
        attentionMask: new BigInt64Array(step.cache.length + 1).fill(1n),
        positionIds: BigInt64Array.from([BigInt(step.cache.length)]),
      },
      step.cache,
    );
  }
}

/** How many leading ids all the prompts share: the template's fixed head, which (d)'s best path keeps evaluated. */
function sharedPrefixLength(prompts: readonly number[][]): number {
  let length = 0;
  while (prompts.every((prompt) => length < prompt.length - 1 && prompt[length] === prompts[0][length])) length++;
  return length;
}

/** The 1-, 5- and 15-minute load averages, to two decimals. */
const load = () => loadavg().map((value) => Math.round(value * 100) / 100);

async function main(): Promise<void> {
  const options = parseCommandLine();
  // Before the model build (about 40 s): a missing baseline is said at once.
  const transformersJs = options.systems.has('c') ? await loadTransformersJs() : undefined;
  const missingGguf = (options.systems.has('d') ? options.dtypes : [])
    .map((dtype) => ggufPath(options.model, dtype))
    .filter((path) => path !== undefined && !existsSync(path));
  if (missingGguf.length > 0) {
    throw new Error(
      `(d) needs ${missingGguf.join(', ')}: build the model with its checkpoint (qwen3guard build-model ... --hf-checkpoint), then run tools/gguf/convert_to_gguf.py on it`,
    );
  }
  await ensureBenchmarkModel(options.model, options.dtypes);
  const directory = readModelDirectory(options.model, options.dtypes[0]);
  const config = JSON.parse(readFileSync(join(options.model, 'config.json'), 'utf8')) as Qwen3Config;
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const grammar = new AnswerGrammar(encoder);
  const template = { prompt: measureTemplateLengths(encoder, 'prompt'), response: measureTemplateLengths(encoder, 'response') };
  console.error(
    `template: prefix ${template.prompt.prefix}/${template.response.prefix} tokens, tail ${template.prompt.tail}/${template.response.tail} (prompt/response)`,
  );
  if (template.prompt.tail !== SYNTHETIC_TEMPLATE_LENGTHS.prompt.tail || template.response.tail !== SYNTHETIC_TEMPLATE_LENGTHS.response.tail) {
    // Every verdict computes text + tail: a shorter tail than the real template's understates its cost.
    console.error(
      `warning: the real Qwen3Guard-Gen template's tails are 96/119 tokens; a synthetic directory built before its template had them must be rebuilt (delete ${options.model})`,
    );
  }
  const engineLog: string[] = [];
  const silent = { log: (m: string) => engineLog.push(m), warn: (m: string) => console.error(m), error: (m: string) => console.error(m) };
  // FLOPs per computed token: every weight matrix once (multiply-add = 2). The embedding is a lookup; the LM
  // head projects onto the vocabulary, and with logits_to_keep (a) runs it on a row's last positions only.
  const headFlops = 2 * config.vocab_size * config.hidden_size;
  const flopsPerToken = 2 * countQwen3Parameters(config) - (config.tie_word_embeddings ? 0 : headFlops);

  const lengths = options.lengths;
  const modes: BenchMode[] = ['prompt', 'response'];
  const cells: InferenceCell[] = [];
  const loadAtStart = load();
  const gemm = await measureGemmLimit({ precision: 'fp32' });
  const gemmInt8 = await measureGemmLimit({ precision: 'int8' });
  console.error(
    `GEMM limit: fp32 best ${gemm.bestGflops.toFixed(1)} GFLOP/s (median ${gemm.medianGflops.toFixed(1)}), int8 best ${gemmInt8.bestGflops.toFixed(1)} (median ${gemmInt8.medianGflops.toFixed(1)})`,
  );
  const llamaSettings: Partial<Record<ModelDtype, LlamaCppSettings>> = {};
  const started = new Date().toISOString();
  const provenance = runProvenance();
  const variant =
    `${options.logitsToKeep ? '' : '-full-logits'}${options.int8Activations === 'per-pass' ? '-int8-per-pass' : ''}` +
    `${options.maxBatch === 16 ? '' : `-max-batch${options.maxBatch}`}`;
  // The start minute in the name: two runs of the same cells on one day must not overwrite each other.
  const file = join(
    options.out,
    `inference-${started.slice(0, 16).replace(':', '')}-${options.dtypes.join('-')}-${lengths.join('-')}-c${options.concurrencies.join('-')}${variant}.json`,
  );
  mkdirSync(options.out, { recursive: true });
  // Rewritten after every cell: a full run takes an hour or more, and an interrupted one keeps what it measured.
  const write = (complete: boolean) => {
    const result: InferenceResults = {
      date: started,
      complete,
      ...provenance,
      model: options.model,
      int8Activations: options.int8Activations,
      maxBatch: options.maxBatch,
      template,
      gemm,
      gemmInt8,
      load: { start: loadAtStart, ...(complete ? { end: load() } : {}) },
      llamaCpp: { converter: ggufConverter(options.model), byDtype: llamaSettings },
      flopsPerToken,
      cells,
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  };
  const record = (cell: InferenceCell) => {
    cell.loadavg = load();
    cells.push(cell);
    report(cell);
    write(false);
  };

  for (const dtype of options.dtypes) {
    const prefillLog = new PrefillLog();
    // Random weights never agree with the answer format, so (a) imposes it (verifyAnswerFormat off): the
    // same passes and the same tokens as with verification, minus its vocabulary scans (a few ms).
    const engine = new OnnxModerationEngine(
      {
        modelDir: options.model,
        dtype,
        provider: 'cpu',
        maxNewTokens: 64,
        demo: false,
        verifyAnswerFormat: false,
        logitsToKeep: options.logitsToKeep,
        int8Activations: options.int8Activations,
        batching: { maxBatch: options.maxBatch, maxWaitMs: 2, maxQueue: 4096, maxQueueWaitMs: 0 },
      },
      silent,
      prefillLog,
    );
    engineLog.length = 0;
    await engine.load();
    const lmHead = engineLog.some((line) => line.includes('LM head on the positions read')) ? 'kept-positions' : 'every-position';
    // Prefill FLOPs (a) really does per prompt token (the few kept positions' head is left out: a slight undercount).
    const prefillFlopsPerToken = lmHead === 'kept-positions' ? flopsPerToken - headFlops : flopsPerToken;
    console.error(`${dtype}: (a) computes the LM head on ${lmHead === 'kept-positions' ? 'the positions it reads' : 'every position'}`);
    const plainDirectory = readModelDirectory(options.model, dtype);
    const plain = options.systems.has('b')
      ? await DecoderSession.open({ onnxPath: plainDirectory.onnxPath, config: plainDirectory.config, provider: 'cpu', intraOpThreads: 0, logger: silent })
      : undefined;
    if (transformersJs) {
      transformersJs.env.allowRemoteModels = false;
      transformersJs.env.localModelPath = '/';
    }
    const generator = await transformersJs?.pipeline('text-generation', options.model, { dtype: TRANSFORMERS_JS_DTYPES[dtype], device: 'cpu' });
    const gguf = options.systems.has('d') ? ggufPath(options.model, dtype) : undefined;
    // Room for the longest text, the template around it and the answer.
    const llama = gguf ? await LlamaCppRunner.open(gguf, { ...options.llama, contextSize: Math.max(...lengths) + 768 }) : undefined;
    if (llama) llamaSettings[dtype] = llama.settings;
    else console.error(`${dtype}: no GGUF counterpart, (d) skipped`);

    for (const textTokens of lengths) {
      for (const mode of modes) {
        for (const concurrency of options.concurrencies) {
          const requests = concurrency === 1 ? requestsAtConcurrencyOne(textTokens) : concurrency;
          const inputs: ModerationInput[] = Array.from({ length: requests }, (_, i) => ({ messages: conversation(encoder, mode, textTokens, i) }));
          await engine.moderate([inputs[0]]); // warm this shape
          prefillLog.reset();
          const measured = await runConcurrently(
            inputs.map((input) => () => engine.moderate([input])),
            concurrency,
          );
          const prefillTokensPerSecond = prefillLog.tokensPerSecond();
          const engineCell: InferenceCell = {
            system: 'a-engine',
            dtype,
            textTokens,
            mode,
            concurrency,
            requests,
            ...measured,
            lmHead,
            prefillTokensPerSecond,
            prefillGflops: (prefillTokensPerSecond * prefillFlopsPerToken) / 1e9,
          };
          if (concurrency !== 1) {
            record(engineCell);
            continue;
          }
          // The answer (a) gave fixes how many tokens (b), (c) and (d) must generate for the same input.
          const answerLengths: number[] = [];
          engineCell.verdicts = { safe: 0, controversial: 0, unsafe: 0 };
          for (const input of inputs) {
            const [verdict] = await engine.moderate([input]);
            engineCell.verdicts[verdict.safetyLevel]++;
            answerLengths.push(grammar.answerLength(verdict.mode, verdict.safetyLevel, verdict.categories, verdict.refusal));
          }
          record(engineCell);
          const prompts = inputs.map((input) => encoder.encode(input.messages));
          const answerTokens = answerLengths.reduce((sum, length) => sum + length, 0) / answerLengths.length;
          if (plain)
            record({
              system: 'b-plain-greedy',
              dtype,
              textTokens,
              mode,
              concurrency,
              requests,
              answerTokens,
              ...(await runConcurrently(
                prompts.map((prompt, i) => () => plainGreedy(plain, prompt, answerLengths[i])),
                1,
              )),
            });
          const rendered = inputs.map((input) => encoder.render(input.messages));
          if (generator)
            record({
              system: 'c-transformers-js',
              dtype,
              textTokens,
              mode,
              concurrency,
              requests,
              answerTokens,
              ...(await runConcurrently(
                rendered.map(
                  (text, i) => () =>
                    generator(text, { max_new_tokens: answerLengths[i], min_new_tokens: answerLengths[i], do_sample: false, return_full_text: false }),
                ),
                1,
              )),
            });
          if (!llama) continue;
          const prefixTokens = sharedPrefixLength(prompts);
          await llama.withKeptPrefix(prompts[0], prefixTokens, answerLengths[0]); // the prefix evaluated, this shape warm
          record({
            system: 'd-llama-cpp',
            dtype,
            textTokens,
            mode,
            concurrency,
            requests,
            answerTokens,
            prefixTokens,
            ...(await runConcurrently(
              prompts.map((prompt, i) => () => llama.withKeptPrefix(prompt, prefixTokens, answerLengths[i])),
              1,
            )),
          });
          record({
            system: 'd-llama-cpp-plain',
            dtype,
            textTokens,
            mode,
            concurrency,
            requests,
            answerTokens,
            ...(await runConcurrently(
              prompts.map((prompt, i) => () => llama.fromScratch(prompt, answerLengths[i])),
              1,
            )),
          });
        }
      }
    }
    await llama?.close();
    await engine.close();
    await plain?.close();
    await generator?.dispose();
  }

  write(true);
  console.error(`wrote ${file}`);
}

/** Counts the prompt tokens each batch really computed (cached ones excluded) and its prefill time. */
class PrefillLog extends EngineObserver {
  private tokens = 0;
  private seconds = 0;

  reset(): void {
    this.tokens = 0;
    this.seconds = 0;
  }

  tokensPerSecond(): number {
    return this.tokens / this.seconds;
  }

  batchExecuted(batch: BatchReport): void {
    this.tokens += batch.promptTokens - batch.cachedTokens;
    this.seconds += batch.prefillSeconds;
  }

  queueDepth(): void {}
  queueWait(): void {}
  prefixCacheLookup(): void {}
  engineError(): void {}
  modelLoaded(): void {}
  modelUnloaded(): void {}
}

function report(cell: InferenceCell): void {
  const prefill = cell.prefillGflops ? `  prefill ${cell.prefillGflops.toFixed(1)} GFLOP/s` : '';
  const answer = cell.answerTokens ? `  ${cell.answerTokens.toFixed(1)} tokens generated` : '';
  console.error(
    `${cell.system.padEnd(18)} ${cell.dtype} ${String(cell.textTokens).padStart(4)} tok ${cell.mode.padEnd(8)} c=${String(cell.concurrency).padStart(2)}` +
      `  p50 ${cell.p50Ms.toFixed(0)} ms  p95 ${cell.p95Ms.toFixed(0)} ms  ${cell.throughputPerSecond.toFixed(2)} req/s${prefill}${answer}`,
  );
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
