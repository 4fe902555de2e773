import { ort } from '../onnxruntime';
import { bestIds } from '../logits';
import { KeepLastPositions, WireTensor, WireTensors } from './session-messages';

/** Tensors as they cross the thread boundary: type, dims and the typed array itself. */
export function toWire(tensors: Readonly<Record<string, ort.Tensor>>): WireTensors {
  const wire: WireTensors = {};
  for (const [name, { type, dims, data }] of Object.entries(tensors)) wire[name] = { type, dims, data };
  return wire;
}

/** onnxruntime tensors over the arrays that crossed (no copy). */
export function fromWire(wire: WireTensors): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(wire).map(([name, { type, data, dims }]) => [name, new ort.Tensor(type, data as never, [...dims])]));
}

/** Each distinct ArrayBuffer behind the tensors once (a transfer list must not name one twice). */
export function buffersOf(tensors: Readonly<Record<string, { data: unknown }>>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { data } of Object.values(tensors)) {
    if (ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) buffers.add(data.buffer);
  }
  return [...buffers];
}

/** Cuts an output down to the last positions of its second axis, in place of the whole tensor. */
export function keepLastPositions(tensors: WireTensors, { output, positions }: KeepLastPositions): void {
  const tensor = tensors[output];
  if (!tensor || tensor.dims[1] <= positions) return;
  const [batch, sequence] = tensor.dims;
  const source = tensor.data as Float32Array | Uint16Array;
  const rowSize = source.length / (batch * sequence);
  const kept = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(batch * positions * rowSize);
  for (let row = 0; row < batch; row++) {
    const from = (row * sequence + sequence - positions) * rowSize;
    kept.set(source.subarray(from, from + positions * rowSize), row * positions * rowSize);
  }
  tensors[output] = { type: tensor.type, dims: [batch, positions, ...tensor.dims.slice(2)], data: kept };
}

/** The values at `ids` along the last axis, in that order, for every other index. */
export function gatherIds({ type, dims, data }: WireTensor, ids: readonly number[]): WireTensor {
  const vocab = dims[dims.length - 1];
  const source = data as Float32Array | Uint16Array;
  const rows = source.length / vocab;
  const gathered = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(rows * ids.length);
  for (let row = 0; row < rows; row++) ids.forEach((id, column) => (gathered[row * ids.length + column] = source[row * vocab + id]));
  return { type, dims: [...dims.slice(0, -1), ids.length], data: gathered };
}

/** The best id along the last axis for every other index of a float32 or float16 tensor. */
export function bestIdsOf({ dims, data }: WireTensor): Int32Array {
  const vocab = dims[dims.length - 1];
  const values = data as Float32Array | Uint16Array;
  return bestIds(values, values.length / vocab, vocab);
}
