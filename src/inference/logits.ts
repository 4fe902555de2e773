import type { Tensor } from 'onnxruntime-node';
import { float16BitsToFloat32 } from './float16';

/** Reads one position's logits out of a `[batch, seq, vocab]` tensor, float16 or float32, without copying. */
export type LogitsRow = (id: number) => number;

export function vocabularySize(logits: Tensor): number {
  return logits.dims[logits.dims.length - 1];
}

/** The last position of `row` (every row of a left-padded batch ends at the same position). */
export function lastPositionLogits(logits: Tensor, row = 0): LogitsRow {
  return positionLogits(logits, row, logits.dims[1] - 1);
}

export function positionLogits(logits: Tensor, row: number, position: number): LogitsRow {
  const [, sequence, vocab] = logits.dims;
  const offset = (row * sequence + position) * vocab;
  if (logits.type === 'float16') {
    const data = logits.data as Uint16Array;
    return (id) => float16BitsToFloat32(data[offset + id]);
  }
  const data = logits.data as Float32Array;
  return (id) => data[offset + id];
}

/** The best of the whole vocabulary (plain greedy decoding). */
export function argmaxVocabulary(row: LogitsRow, size: number): number {
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

/** The best of the tokens the answer format allows here (constrained decoding); ties go to the first. */
export function argmaxAmong(row: LogitsRow, ids: readonly number[]): number {
  let best = ids[0];
  let bestValue = row(best);
  for (const id of ids) {
    const value = row(id);
    if (value > bestValue) {
      bestValue = value;
      best = id;
    }
  }
  return best;
}
