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
}
