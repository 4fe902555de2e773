import { DecoderSession, KvCache, LogitsRead } from '../runtime/decoder-session';

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

/** One prompt row of `tokens` after `pastLength` cached ones, as the decoder session takes it. */
export function singleRow(tokens: readonly number[], pastLength: number) {
  const sequenceLength = tokens.length;
  return {
    batch: 1,
    sequenceLength,
    inputIds: BigInt64Array.from(tokens, BigInt),
    attentionMask: new BigInt64Array(pastLength + sequenceLength).fill(1n),
    positionIds: BigInt64Array.from({ length: sequenceLength }, (_, i) => BigInt(pastLength + i)),
  };
}
