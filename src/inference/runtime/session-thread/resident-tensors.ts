import { ort } from '../onnxruntime';

/** Sets of tensors the session's thread keeps between runs, each known to the other side by a handle. */
export class ResidentTensors {
  private readonly sets = new Map<number, Record<string, ort.Tensor>>();
  private nextHandle = 1;

  get count(): number {
    return this.sets.size;
  }

  keep(tensors: Record<string, ort.Tensor>): number {
    const handle = this.nextHandle++;
    this.sets.set(handle, tensors);
    return handle;
  }

  get(handle: number): Record<string, ort.Tensor> {
    const tensors = this.sets.get(handle);
    if (!tensors) throw new Error(`no resident tensors under handle ${handle} (dropped already?)`);
    return tensors;
  }

  /** Unknown handles are ignored: a set the thread dropped after its run may be dropped again by its owner. */
  drop(handle: number): void {
    this.sets.delete(handle);
  }

  /** A new set whose tensors repeat the first (single-row) axis of `handle`'s `rows` times. */
  tile(handle: number, rows: number): number {
    const tiled: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(this.get(handle))) {
      const [single, ...rest] = tensor.dims;
      if (single !== 1) throw new Error(`only a single-row set can be tiled; ${name} has ${single} rows`);
      const source = tensor.data as Float32Array | Uint16Array;
      const copy = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(source.length * rows);
      for (let row = 0; row < rows; row++) copy.set(source, row * source.length);
      tiled[name] = new ort.Tensor(tensor.type as 'float32' | 'float16', copy, [rows, ...rest]);
    }
    return this.keep(tiled);
  }

  /**
   * A new set whose `[rows, heads, length, headDim]` caches keep only their first `length` positions (the
   * sequence axis, 2), in place of `handle`'s set, which is dropped.
   */
  truncate(handle: number, length: number): number {
    const truncated: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(this.get(handle))) {
      if (tensor.dims.length !== 4) throw new Error(`only [rows, heads, length, headDim] caches can be truncated; ${name} has ${tensor.dims.length} axes`);
      const [rows, heads, stored, headDim] = tensor.dims;
      if (length > stored) throw new Error(`cannot keep ${length} positions of ${name}, which holds ${stored}`);
      const source = tensor.data as Float32Array | Uint16Array;
      const copy = uninitializedLike(source, rows * heads * length * headDim);
      for (let block = 0; block < rows * heads; block++) {
        copy.set(source.subarray(block * stored * headDim, (block * stored + length) * headDim), block * length * headDim);
      }
      truncated[name] = new ort.Tensor(tensor.type as 'float32' | 'float16', copy, [rows, heads, length, headDim]);
    }
    this.drop(handle);
    return this.keep(truncated);
  }
}

/** An array of `source`'s type left unfilled (no zeroing pass over tens of MB): every element is written next. */
function uninitializedLike<T extends Float32Array | Uint16Array>(source: T, length: number): T {
  const bytes = Buffer.allocUnsafeSlow(length * source.BYTES_PER_ELEMENT);
  return new (source.constructor as new (buffer: ArrayBufferLike, offset: number, length: number) => T)(bytes.buffer, bytes.byteOffset, length);
}
