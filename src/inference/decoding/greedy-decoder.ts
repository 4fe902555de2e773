import { DecoderSession, KvCache, LogitsRead } from '../runtime/decoder-session';
import { argmaxVocabulary, lastPositionLogits } from '../runtime/logits';
import { PREFILL_CHUNK_TOKENS, prefill, singleRow } from './prefill';

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

function endsWith(tokens: readonly number[], suffix: readonly number[]): boolean {
  if (tokens.length < suffix.length) return false;
  const start = tokens.length - suffix.length;
  return suffix.every((id, i) => tokens[start + i] === id);
}
