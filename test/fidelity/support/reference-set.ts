/**
 * Reference sets written by tools/reference-models/make_reference.py: a manifest of the official exports
 * (optimum, onnxruntime-genai) and transformers' own outputs on fixed conversations. The helpers here run
 * the engine's own pieces (model directory, DecoderSession, prefill, greedyGenerate, PromptEncoder) on a
 * model directory and compare what they produce with those outputs.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import * as ort from 'onnxruntime-node';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import {
  DecoderSession,
  greedyGenerate,
  prefill,
  PREFILL_CHUNK_TOKENS,
  lastPositionLogits,
  LogitsRow,
  vocabularySize,
  ModelDirectory,
  readModelDirectory,
  ModelDtype,
  PromptEncoder,
  ChatMessage,
  fromFloat16Bits,
} from '../../../src/inference';

export const REPO_ROOT = resolve(__dirname, '../../..');
export const COMMITTED_REFERENCE_DIR = join(REPO_ROOT, 'test/fixtures/reference-models/qwen3-tiny');

/** What the weights are stored as: float exports, or weight-quantized ones (int8: quantize_int8.py or the builder's -p int8). */
export type Precision = 'fp32' | 'fp16' | 'int8' | 'int4';

export interface ExportEntry {
  name: string;
  exporter: 'optimum' | 'onnxruntime-genai';
  dir: string;
  onnx: string;
  /** The dtype the engine is asked for (readModelDirectory); a genai folder's one model.onnx answers any. */
  dtype: ModelDtype;
  precision: Precision;
  /** Float exports: largest |logit - transformers'| over the conversation's largest |logit|. */
  relative_tolerance?: number;
  judged_by: 'relative logit difference' | 'verdict agreement';
  inputs: Array<{ name: string; type: string; shape: Array<string | number> }>;
  outputs: Array<{ name: string; type: string; shape: Array<string | number> }>;
  operators: Record<string, number>;
  /** The export's ONNX file and its external data, relative to `dir`. */
  files: string[];
  dropped_tokenizer_files: Record<string, string>;
  python_onnxruntime_max_abs_diff?: number;
}

export interface Manifest {
  model: string;
  config: Record<string, unknown>;
  checkpoint?: { dir: string; safetensors: string; stored_dtype: string };
  tokenizer?: { restore_from: string; sha256: string };
  exports: ExportEntry[];
  failures: unknown[];
  files: Record<string, { bytes: number; sha256: string }>;
  total_bytes: number;
}

export interface ReferenceStep {
  token: number | null;
  top_ids: number[];
  top_values: number[];
  margin: number;
}

export interface ReferenceConversation {
  id: string;
  mode: 'prompt' | 'response';
  messages: ChatMessage[];
  text: string;
  input_ids: number[];
  prompt_logits: {
    top_ids: number[];
    top_values: number[];
    sample_ids: number[];
    sample_values: number[];
    verdict_ids: number[];
    verdict_values: number[];
    sum: number;
    l2: number;
    max: number;
    min: number;
  };
  steps: ReferenceStep[];
  continuation: number[];
}

export interface References {
  max_new_tokens: number;
  vocab_size: number;
  conversations: ReferenceConversation[];
}

/** Python onnxruntime's own outputs on one export (make_reference.py, onnxruntime_outputs). */
export interface OnnxruntimeConversation {
  id: string;
  /** At the references' prompt_logits.sample_ids, float32 values written as their shortest decimals. */
  sample_values: number[];
  sum: number;
  l2: number;
  argmax: number;
  /** One KV-cache step after the prompt, transformers' first greedy token fed back. */
  decode_step?: { token: number; ids: number[]; values: number[] };
}

export interface ReferenceSet {
  root: string;
  manifest: Manifest;
  references: References;
  /** Per export name: what Python onnxruntime computed on that very file. */
  onnxruntime: Record<string, { conversations: OnnxruntimeConversation[] }>;
}

export function loadReferenceSet(root: string): ReferenceSet {
  const read = (file: string) => JSON.parse(readFileSync(join(root, file), 'utf8'));
  return {
    root,
    manifest: read('manifest.json') as Manifest,
    references: read('references.json') as References,
    onnxruntime: (read('onnxruntime.json') as { exports: ReferenceSet['onnxruntime'] }).exports,
  };
}

export function isWeightQuantized(entry: ExportEntry): boolean {
  return entry.precision === 'int8' || entry.precision === 'int4';
}

/** The conversation's largest |logit| at the last prompt position: what rounding errors scale with. */
export function logitScale(conversation: ReferenceConversation): number {
  return Math.max(Math.abs(conversation.prompt_logits.max), Math.abs(conversation.prompt_logits.min));
}

/** A float export's absolute bound from transformers on this conversation: relative tolerance x logit scale. */
export function floatTolerance(relative: number, conversation: ReferenceConversation): number {
  return relative * logitScale(conversation);
}

/**
 * The engine against Python onnxruntime on the same file: the largest |difference| over the recorded ids
 * (prompt position and one decoding step), and whether the argmax over the whole vocabulary is the same.
 */
export interface OnnxruntimeComparison {
  maxAbsDiff: number;
  sumDiff: number;
  argmax: number;
}

export async function compareWithOnnxruntime(
  model: OpenedModel,
  conversation: ReferenceConversation,
  recorded: OnnxruntimeConversation,
): Promise<OnnxruntimeComparison> {
  // One pass over the whole prompt, as Python ran it (the engine's chunks would be another computation).
  const { row, vocab, step } = await promptLogits(model, conversation.input_ids, conversation.input_ids.length);
  let maxAbsDiff = 0;
  // The recorded decimals are the float32 values' shortest spellings: Math.fround gives back the exact float32.
  const track = (value: number, expected: number) => {
    const diff = Math.abs(value - Math.fround(expected));
    if (!(diff <= maxAbsDiff)) maxAbsDiff = diff; // NaN fails
  };
  conversation.prompt_logits.sample_ids.forEach((id, i) => track(row(id), recorded.sample_values[i]));
  let sum = 0;
  let argmax = 0;
  for (let id = 0; id < vocab; id++) {
    sum += row(id);
    if (row(id) > row(argmax)) argmax = id;
  }
  if (recorded.decode_step) {
    const { token, ids, values } = recorded.decode_step;
    const next = await model.session.forward(
      {
        batch: 1,
        sequenceLength: 1,
        inputIds: BigInt64Array.of(BigInt(token)),
        attentionMask: new BigInt64Array(step.cache.length + 1).fill(1n),
        positionIds: BigInt64Array.of(BigInt(step.cache.length)),
      },
      step.cache,
    );
    const stepRow = lastPositionLogits(next.logits);
    ids.forEach((id, i) => track(stepRow(id), values[i]));
  }
  return { maxAbsDiff, sumDiff: Math.abs(sum - recorded.sum), argmax };
}

/**
 * make_reference.py's onnxruntime_outputs, in this process: onnxruntime-node's own InferenceSession on the
 * export as written (no graph rewrite, no engine), with the inputs Python fed: the whole prompt in one pass on
 * empty past tensors, then one KV-cache step with the recorded token. It runs this machine's kernels, which the
 * recorded values need not: onnxruntime picks its GEMM kernels by CPU (AVX2, AVX-512, VNNI, AMX), and the
 * float16 and int8 paths round differently from one to another.
 */
export async function plainOnnxruntimeOutputs(
  model: OpenedModel,
  onnxFile: string,
  conversation: ReferenceConversation,
  recorded: OnnxruntimeConversation,
): Promise<OnnxruntimeConversation> {
  const session = await ort.InferenceSession.create(onnxFile, { executionProviders: ['cpu'], intraOpNumThreads: OPEN_THREADS, logSeverityLevel: 3 });
  try {
    const { io } = model.session;
    const pastType = io.kvDtype === 'float16' ? 'float16' : 'float32';
    const empty = () => new ort.Tensor(pastType, pastType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, io.kvHeads, 0, io.headDim]);
    const run = async (ids: readonly number[], past: Record<string, ort.Tensor> | null, start: number) => {
      const feeds: Record<string, ort.Tensor> = {
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(start + ids.length).fill(1n), [1, start + ids.length]),
      };
      if (session.inputNames.includes('position_ids'))
        feeds.position_ids = new ort.Tensor(
          'int64',
          BigInt64Array.from(ids, (_, i) => BigInt(start + i)),
          [1, ids.length],
        );
      for (const name of session.inputNames.filter((input) => input.startsWith('past_key_values.')))
        feeds[name] = past ? past[name.replace('past_key_values.', 'present.')] : empty();
      const outputs = await session.run(feeds);
      const logits = outputs.logits;
      const [, length, vocab] = logits.dims;
      const data = logits.type === 'float16' ? fromFloat16Bits(logits.data as Uint16Array) : (logits.data as Float32Array);
      return { last: data.subarray((length - 1) * vocab, length * vocab), outputs };
    };
    const prompt = await run(conversation.input_ids, null, 0);
    let sum = 0;
    let squares = 0;
    let argmax = 0;
    prompt.last.forEach((value, id) => {
      sum += value;
      squares += value * value;
      if (value > prompt.last[argmax]) argmax = id;
    });
    const result: OnnxruntimeConversation = {
      id: conversation.id,
      sample_values: conversation.prompt_logits.sample_ids.map((id) => prompt.last[id]),
      sum,
      l2: Math.sqrt(squares),
      argmax,
    };
    if (recorded.decode_step) {
      const { token, ids } = recorded.decode_step;
      const step = await run([token], prompt.outputs, conversation.input_ids.length);
      result.decode_step = { token, ids, values: ids.map((id) => step.last[id]) };
    }
    return result;
  } finally {
    await session.release();
  }
}

/** Largest difference between two runs' values at the same ids (prompt samples and the decoding step). */
export function outputsMaxDiff(a: OnnxruntimeConversation, b: OnnxruntimeConversation): number {
  const pairs = [...a.sample_values.map((value, i) => [value, b.sample_values[i]])];
  a.decode_step?.values.forEach((value, i) => pairs.push([value, b.decode_step!.values[i]]));
  return Math.max(...pairs.map(([x, y]) => Math.abs(x - Math.fround(y))));
}

/** The committed tiny set, plus a set written for a real checkpoint when QWEN3GUARD_REFERENCE_DIR names one. */
export function referenceRoots(): string[] {
  const extra = process.env.QWEN3GUARD_REFERENCE_DIR;
  return extra ? [COMMITTED_REFERENCE_DIR, resolve(extra)] : [COMMITTED_REFERENCE_DIR];
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * A temporary model directory holding links to every file of the export as the exporter wrote it, plus
 * the tokenizer.json that the committed set leaves out (the manifest's checksum says it is the project's).
 */
export function linkExport(set: ReferenceSet, entry: ExportEntry): string {
  const source = join(set.root, entry.dir);
  const target = mkdtempSync(join(tmpdir(), `reference-${entry.name}-`));
  for (const file of listFiles(source)) {
    mkdirSync(dirname(join(target, file)), { recursive: true });
    symlinkSync(join(source, file), join(target, file));
  }
  if (!existsSync(join(target, 'tokenizer.json'))) {
    const restore = set.manifest.tokenizer;
    if (!restore) throw new Error(`${source} has no tokenizer.json and the manifest says none to restore`);
    const tokenizer = join(REPO_ROOT, restore.restore_from);
    if (sha256File(tokenizer) !== restore.sha256) throw new Error(`${tokenizer} is not the tokenizer.json the export was made with`);
    symlinkSync(tokenizer, join(target, 'tokenizer.json'));
  }
  return target;
}

export function listFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(relative(root, path));
    }
  };
  walk(root);
  return files.sort();
}

/**
 * A model directory opened the way OnnxModerationEngine opens it: its own config, tokenizer and template, the
 * `logits_to_keep` input the engine adds, its grouped attention and its finite attention mask, so every logit
 * compared here comes out of the rewritten graph.
 */
export interface OpenedModel {
  directory: ModelDirectory;
  session: DecoderSession;
  encoder: PromptEncoder;
  stopIds: Set<number>;
}

/** The engine's threads here, and plain onnxruntime's: a kernel split over other threads may sum in another order. */
const OPEN_THREADS = 2;

const SILENT = { log: () => undefined, warn: () => undefined, error: () => undefined };

export async function openModel(dir: string, dtype: ModelDtype): Promise<OpenedModel> {
  const directory = readModelDirectory(dir, dtype);
  const session = await DecoderSession.open({
    onnxPath: directory.onnxPath,
    config: directory.config,
    provider: 'cpu',
    intraOpThreads: OPEN_THREADS,
    logger: SILENT,
    logitsToKeep: true,
    groupedAttention: true,
    finiteAttentionMask: true,
  });
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const asList = (value: number | number[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);
  // The engine's stop tokens (onnx-moderation-engine.ts): config and generation config eos ids, <|im_end|>.
  const stopIds = new Set([...asList(directory.config.eos_token_id), ...asList(directory.generationConfig?.eos_token_id), ...encoder.tokenize('<|im_end|>')]);
  return { directory, session, encoder, stopIds };
}

/** Largest absolute difference, with what the other numbers say about the whole vocabulary. */
export interface LogitsComparison {
  maxAbsDiff: number;
  /** |sum - reference sum| and |L2 - reference L2| over all `vocab` logits, to hold to tolerance x V and x sqrt(V). */
  sumDiff: number;
  l2Diff: number;
  topIds: number[];
}

export function compareLogits(row: LogitsRow, vocab: number, reference: ReferenceConversation['prompt_logits']): LogitsComparison {
  let maxAbsDiff = 0;
  const track = (ids: number[], values: number[]) =>
    ids.forEach((id, i) => {
      const diff = Math.abs(row(id) - values[i]);
      if (!(diff <= maxAbsDiff)) maxAbsDiff = diff; // NaN fails
    });
  track(reference.sample_ids, reference.sample_values);
  track(reference.top_ids, reference.top_values);
  track(reference.verdict_ids, reference.verdict_values);
  let sum = 0;
  let squares = 0;
  const k = reference.top_ids.length;
  // Top k by insertion into a small sorted list: one pass, no sort of the whole vocabulary.
  const topIds: number[] = [];
  const topValues: number[] = [];
  for (let id = 0; id < vocab; id++) {
    const value = row(id);
    sum += value;
    squares += value * value;
    if (topIds.length === k && value <= topValues[k - 1]) continue;
    let at = topIds.length === k ? k - 1 : topIds.length;
    while (at > 0 && topValues[at - 1] < value) at--;
    topIds.splice(at, 0, id);
    topValues.splice(at, 0, value);
    if (topIds.length > k) {
      topIds.pop();
      topValues.pop();
    }
  }
  return { maxAbsDiff, sumDiff: Math.abs(sum - reference.sum), l2Diff: Math.abs(Math.sqrt(squares) - reference.l2), topIds };
}

/** Logits at the last prompt position, through the engine's chunked prefill. */
export async function promptLogits(model: OpenedModel, ids: readonly number[], chunk = PREFILL_CHUNK_TOKENS) {
  const step = await prefill(model.session, ids, chunk, model.session.emptyCache(1));
  return { row: lastPositionLogits(step.logits), vocab: vocabularySize(step.logits), step };
}

/**
 * Teacher-forced decoding: the reference's own tokens are fed back, so every step's logits can be
 * compared even where a lower precision would have picked another token. Returns the largest difference
 * over each step's reference top ids.
 */
export async function stepLogitsMaxDiff(model: OpenedModel, conversation: ReferenceConversation): Promise<number> {
  let { step } = await promptLogits(model, conversation.input_ids);
  let worst = 0;
  for (const [index, reference] of conversation.steps.entries()) {
    const row = lastPositionLogits(step.logits);
    reference.top_ids.forEach((id, i) => {
      const diff = Math.abs(row(id) - reference.top_values[i]);
      if (!(diff <= worst)) worst = diff;
    });
    if (reference.token === null || index === conversation.steps.length - 1) break;
    const length = step.cache.length;
    step = await model.session.forward(
      {
        batch: 1,
        sequenceLength: 1,
        inputIds: BigInt64Array.of(BigInt(reference.token)),
        attentionMask: new BigInt64Array(length + 1).fill(1n),
        positionIds: BigInt64Array.of(BigInt(length)),
      },
      step.cache,
    );
  }
  return worst;
}

/** The engine's plain greedy decoding (greedyGenerate), with the reference's token budget. */
export async function greedyContinuation(model: OpenedModel, ids: readonly number[], maxNewTokens: number): Promise<number[]> {
  const result = await greedyGenerate(model.session, ids, { maxNewTokens, stopIds: model.stopIds, verdictCue: [], verdictTokens: [] });
  return result.tokens;
}

/**
 * How many leading greedy steps are decisive at `tolerance`: the reference's best token leads the
 * runner-up by more than twice the tolerance, so a runtime within tolerance must pick the same token.
 */
export function decisiveSteps(conversation: ReferenceConversation, tolerance: number): number {
  const index = conversation.steps.findIndex((step) => step.margin <= 2 * tolerance);
  return index === -1 ? conversation.continuation.length : index;
}

/** Measured numbers, printed once per suite for the record (docs/models.md quotes them). */
export function report(title: string, rows: Array<Record<string, string | number>>): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const lines = [columns.join(' | '), ...rows.map((row) => columns.map((column) => format(row[column])).join(' | '))];
  process.stdout.write(`\n${title}\n  ${lines.join('\n  ')}\n`);
}

function format(value: string | number): string {
  return typeof value === 'number' && !Number.isInteger(value) ? value.toExponential(2) : String(value);
}
