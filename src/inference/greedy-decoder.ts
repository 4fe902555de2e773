import type { Tensor } from 'onnxruntime-node';
import { DecoderSession } from './decoder-session';
import { float16BitsToFloat32 } from './float16';

export interface GreedyPlan {
  maxNewTokens: number;
  stopIds: ReadonlySet<number>;
  /** Token ids of `Safety:`; the distribution right after them is the verdict distribution. */
  verdictCue: readonly number[];
  /** First token ids of ` Safe`, ` Controversial`, ` Unsafe`, in that order. */
  verdictTokens: readonly number[];
  /** Prompt tokens per prefill step; PREFILL_CHUNK_TOKENS unless a test asks otherwise. */
  prefillChunkTokens?: number;
}

export interface GreedyResult {
  tokens: number[];
  /** Logits of the verdict tokens where the model had just written `Safety:`; null if it never did. */
  verdictLogits: number[] | null;
  prefillSeconds: number;
  decodeSeconds: number;
}

/**
 * Exports return logits for every input position (`[batch, seq, vocab]`, 151,936 floats a token), so
 * the prompt is prefilled in chunks: a long text never needs gigabytes of logits at once.
 */
export const PREFILL_CHUNK_TOKENS = 256;

/** Plain greedy decoding of one prompt with a KV cache: prefill in chunks, then one token per step. */
export async function greedyGenerate(session: DecoderSession, prompt: readonly number[], plan: GreedyPlan): Promise<GreedyResult> {
  const prefillStart = performance.now();
  let step = await prefill(session, prompt, plan.prefillChunkTokens ?? PREFILL_CHUNK_TOKENS);
  const prefillSeconds = (performance.now() - prefillStart) / 1000;

  const decodeStart = performance.now();
  const tokens: number[] = [];
  let verdictLogits: number[] | null = null;
  for (;;) {
    const row = lastRow(step.logits);
    if (verdictLogits === null && endsWith(tokens, plan.verdictCue)) {
      verdictLogits = plan.verdictTokens.map((id) => row(id));
    }
    const next = argmax(row, vocabularySize(step.logits));
    if (plan.stopIds.has(next)) break;
    tokens.push(next);
    if (tokens.length >= plan.maxNewTokens) break;
    step = await session.forward(singleRow([next], step.cache.length), step.cache);
  }
  return { tokens, verdictLogits, prefillSeconds, decodeSeconds: (performance.now() - decodeStart) / 1000 };
}

async function prefill(session: DecoderSession, prompt: readonly number[], chunk: number) {
  let cache = session.emptyCache(1);
  for (let start = 0; ; start += chunk) {
    const step = await session.forward(singleRow(prompt.slice(start, start + chunk), start), cache);
    if (start + chunk >= prompt.length) return step;
    cache = step.cache;
  }
}

function singleRow(tokens: readonly number[], pastLength: number) {
  const sequenceLength = tokens.length;
  return {
    batch: 1,
    sequenceLength,
    inputIds: BigInt64Array.from(tokens, BigInt),
    attentionMask: new BigInt64Array(pastLength + sequenceLength).fill(1n),
    positionIds: BigInt64Array.from({ length: sequenceLength }, (_, i) => BigInt(pastLength + i)),
  };
}

function vocabularySize(logits: Tensor): number {
  return logits.dims[logits.dims.length - 1];
}

/** Reader over the logits of the last position of row 0, float16 or float32. */
function lastRow(logits: Tensor): (id: number) => number {
  const vocab = vocabularySize(logits);
  const offset = (logits.dims[1] - 1) * vocab;
  if (logits.type === 'float16') {
    const data = logits.data as Uint16Array;
    return (id) => float16BitsToFloat32(data[offset + id]);
  }
  const data = logits.data as Float32Array;
  return (id) => data[offset + id];
}

function argmax(row: (id: number) => number, size: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let id = 0; id < size; id++) {
    const value = row(id);
    if (value > bestValue) {
      bestValue = value;
      best = id;
    }
  }
  return best;
}

function endsWith(tokens: readonly number[], suffix: readonly number[]): boolean {
  if (tokens.length < suffix.length) return false;
  const start = tokens.length - suffix.length;
  return suffix.every((id, i) => tokens[start + i] === id);
}
