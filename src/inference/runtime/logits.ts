import type { Tensor } from 'onnxruntime-node';
import { float16BitsToFloat32 } from './float16';

/** Reads one position's logits out of a `[batch, seq, vocab]` tensor, float16 or float32, without copying. */
export interface LogitsRow {
  (id: number): number;
  /** The best of the whole vocabulary, scanned straight over the tensor's array (plain greedy decoding). */
  argmax(): number;
}

export function vocabularySize(logits: Tensor): number {
  return logits.dims[logits.dims.length - 1];
}

/** The last position of `row` (every row of a left-padded batch ends at the same position). */
export function lastPositionLogits(logits: Tensor, row = 0): LogitsRow {
  return positionLogits(logits, row, logits.dims[1] - 1);
}

export function positionLogits(logits: Tensor, row: number, position: number): LogitsRow {
  const [, sequence, width] = logits.dims;
  const index = row * sequence + position;
  const offset = index * width;
  const readout = readouts.get(logits);
  const best = readout?.best;
  const column = readout?.columns ? columnIn(readout.columns) : (id: number) => id;
  if (logits.type === 'float16') {
    const data = logits.data as Uint16Array;
    return Object.assign((id: number) => float16BitsToFloat32(data[offset + column(id)]), {
      argmax: () => best?.[index] ?? argmaxFloat16(data, offset, width),
    });
  }
  const data = logits.data as Float32Array;
  return Object.assign((id: number) => data[offset + column(id)], { argmax: () => best?.[index] ?? argmaxFloat32(data, offset, width) });
}

/**
 * What the session's thread worked out with the logits, attached to the tensor it sent:
 * - `best`: the best id per [row, position]. Scanning a vocabulary of 150k for every forced token of every row
 *   would otherwise take the event loop for tens of ms per pass.
 * - `columns`: when only some ids' values were sent (the last axis holds `ids` in order), where each id sits.
 * Attached to the tensor itself, so a tensor built elsewhere (a test's malformed logits) is read as it is.
 */
interface Readout {
  best: Int32Array;
  ids?: readonly number[];
  columns?: ReadonlyMap<number, number>;
}

const readouts = new WeakMap<Tensor, Readout>();

export function withReadout(logits: Tensor, best: Int32Array, ids?: readonly number[]): Tensor {
  readouts.set(logits, { best, ...(ids && { ids, columns: new Map(ids.map((id, column) => [id, column])) }) });
  return logits;
}

/** The vocabulary ids a tensor's last axis holds, when it holds only some (`withReadout`). */
export function gatheredIds(logits: Tensor): readonly number[] | undefined {
  return readouts.get(logits)?.ids;
}

function columnIn(columns: ReadonlyMap<number, number>): (id: number) => number {
  return (id) => {
    const column = columns.get(id);
    if (column === undefined) throw new Error(`the logits of token ${id} were not read back from the session`);
    return column;
  };
}

/** The best id of every [row, position] of a `[batch, seq, vocab]` float32 or float16 array. */
export function bestIds(data: Float32Array | Uint16Array, positions: number, vocab: number): Int32Array {
  const best = new Int32Array(positions);
  for (let i = 0; i < positions; i++) best[i] = data instanceof Uint16Array ? argmaxFloat16(data, i * vocab, vocab) : argmaxFloat32(data, i * vocab, vocab);
  return best;
}

/** The best of the whole vocabulary (plain greedy decoding); ties go to the first, NaN never wins. */
export function argmaxVocabulary(row: LogitsRow): number {
  return row.argmax();
}

function argmaxFloat32(data: Float32Array, offset: number, size: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let id = 0; id < size; id++) {
    const value = data[offset + id];
    if (value > bestValue) {
      bestValue = value;
      best = id;
    }
  }
  return best;
}

/**
 * The same over float16 bits without converting each one: flipping the bits of negatives (and setting the
 * sign bit of positives) makes integer order the numeric order. -0 counts as +0 and NaN is skipped, as a float
 * comparison would.
 */
function argmaxFloat16(data: Uint16Array, offset: number, size: number): number {
  let best = 0;
  let bestKey = -1;
  for (let id = 0; id < size; id++) {
    const bits = data[offset + id];
    if ((bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0) continue;
    const key = bits === 0x8000 ? 0x8000 : bits & 0x8000 ? ~bits & 0xffff : bits | 0x8000;
    if (key > bestKey) {
      bestKey = key;
      best = id;
    }
  }
  return best;
}

/** The best of the tokens the answer format allows here (constrained decoding); ties go to the first. */
export function argmaxAmong(row: (id: number) => number, ids: readonly number[]): number {
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
