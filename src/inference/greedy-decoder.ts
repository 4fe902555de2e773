import { DecoderSession, KvCache, LogitsRead } from './decoder-session';
import { argmaxVocabulary, lastPositionLogits } from './logits';

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

/**
 * Positions one pass may feed across a whole batch: each returns a vocabulary of logits inside onnxruntime
 * (0.6 MB in float32), so 1,024 positions are about 620 MB. A batch of 16 long texts at 256 tokens a row
 * would need 2.5 GB for one pass (the benchmark was killed for memory at 24 GB); its rows take 64 a pass.
 */
export const PREFILL_BATCH_POSITIONS = 1024;

/**
 * Plain greedy decoding of one prompt with a KV cache: prefill in chunks, then one token per step.
 * `cachedPrefix` holds the keys and values of the prompt's first `cachedPrefix.length` tokens (batch 1).
 */
export async function greedyGenerate(
  session: DecoderSession,
  prompt: readonly number[],
  plan: GreedyPlan,
  cachedPrefix: KvCache = session.emptyCache(1),
): Promise<GreedyResult> {
  const prefillStart = performance.now();
  // The loop reads the verdict tokens' values and each position's best id, nothing else of the vocabulary.
  const read: LogitsRead = { positions: 1, ids: plan.verdictTokens };
  let step = await prefill(session, prompt, plan.prefillChunkTokens ?? PREFILL_CHUNK_TOKENS, cachedPrefix, read);
  const prefillSeconds = (performance.now() - prefillStart) / 1000;

  const decodeStart = performance.now();
  const tokens: number[] = [];
  let verdictLogits: number[] | null = null;
  try {
    for (;;) {
      const row = lastPositionLogits(step.logits);
      if (verdictLogits === null && endsWith(tokens, plan.verdictCue)) {
        verdictLogits = plan.verdictTokens.map((id) => row(id));
      }
      const next = argmaxVocabulary(row);
      if (plan.stopIds.has(next)) break;
      tokens.push(next);
      if (tokens.length >= plan.maxNewTokens) break;
      step = await session.forward(singleRow([next], step.cache.length), step.cache, read);
    }
  } finally {
    session.discard(step.cache);
  }
  return { tokens, verdictLogits, prefillSeconds, decodeSeconds: (performance.now() - decodeStart) / 1000 };
}

/**
 * Runs the prompt's tokens after the cached ones through the model, `chunk` tokens at a time; the last
 * chunk's logits come back as `read` asks (by default the whole vocabulary at the last position).
 */
export async function prefill(session: DecoderSession, prompt: readonly number[], chunk: number, cached: KvCache, read: LogitsRead = { positions: 1 }) {
  let cache = cached;
  for (let start = cached.length; ; start += chunk) {
    const step = await session.forward(singleRow(prompt.slice(start, start + chunk), start), cache, read);
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

function endsWith(tokens: readonly number[], suffix: readonly number[]): boolean {
  if (tokens.length < suffix.length) return false;
  const start = tokens.length - suffix.length;
  return suffix.every((id, i) => tokens[start + i] === id);
}
