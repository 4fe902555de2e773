import { DecoderSession, ForwardStep, LogitsRow, positionLogits } from '../../src/inference';

/**
 * Two texts of different lengths in one left-padded batch, the second behind 3 pads with nothing before them
 * (their query rows see no key at all), then one more token each, which attends to every cached position, the
 * pads' included (masked): the prompt pass and the cached step, the two shapes attention runs in, fed as the
 * engine feeds them.
 */
const PADDING = [0, 3];
const paddedMask = (length: number) => BigInt64Array.from(PADDING.flatMap((pad) => Array.from({ length }, (_, at) => (at < pad ? 0n : 1n))));
const positionsFrom = (from: number, length: number) =>
  BigInt64Array.from(PADDING.flatMap((pad) => Array.from({ length }, (_, at) => BigInt(Math.max(0, from + at - pad)))));

export const LEFT_PADDED_PROMPT: ForwardStep = {
  batch: 2,
  sequenceLength: 7,
  inputIds: BigInt64Array.of(9n, 14n, 3n, 27n, 5n, 11n, 40n, 0n, 0n, 0n, 2n, 33n, 17n, 8n),
  attentionMask: paddedMask(7),
  positionIds: positionsFrom(0, 7),
};

export const CACHED_STEP: ForwardStep = {
  batch: 2,
  sequenceLength: 1,
  inputIds: BigInt64Array.of(21n, 6n),
  attentionMask: paddedMask(8),
  positionIds: positionsFrom(7, 1),
};

/** Each row's last-position logits of both passes: row 0's prompt and step, then row 1's. */
export async function leftPaddedPromptAndStep(session: DecoderSession): Promise<LogitsRow[]> {
  const first = await session.forward(LEFT_PADDED_PROMPT, session.emptyCache(2));
  const second = await session.forward(CACHED_STEP, first.cache);
  session.discard(second.cache);
  return [0, 1].flatMap((row) => [positionLogits(first.logits, row, 6), positionLogits(second.logits, row, 0)]);
}
