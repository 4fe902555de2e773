import { ort } from '../onnxruntime';
import { ResidentTensors } from './resident-tensors';

describe('ResidentTensors', () => {
  const single = () => ({
    key: new ort.Tensor('float32', Float32Array.of(1, 2, 3, 4), [1, 2, 2]),
    value: new ort.Tensor('float16', Uint16Array.of(7, 8), [1, 2, 1]),
  });

  it('keeps sets under distinct handles until they are dropped, and ignores a second drop', () => {
    const residents = new ResidentTensors();
    const first = residents.keep(single());
    const second = residents.keep(single());
    expect(first).not.toBe(second);
    expect(residents.count).toBe(2);
    residents.drop(first);
    residents.drop(first);
    expect(residents.count).toBe(1);
    expect(() => residents.get(first)).toThrow(/no resident tensors under handle/);
    expect(residents.get(second).key.dims).toEqual([1, 2, 2]);
  });

  it('tiles a single-row set into a new set of repeated rows, leaving the original', () => {
    const residents = new ResidentTensors();
    const handle = residents.keep(single());
    const tiled = residents.get(residents.tile(handle, 3));
    expect(tiled.key.dims).toEqual([3, 2, 2]);
    expect([...(tiled.key.data as Float32Array)]).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4]);
    expect(tiled.value.type).toBe('float16');
    expect([...(tiled.value.data as Uint16Array)]).toEqual([7, 8, 7, 8, 7, 8]);
    expect(residents.get(handle).key.dims).toEqual([1, 2, 2]);
    expect(() => residents.tile(residents.tile(handle, 2), 2)).toThrow(/single-row/);
  });
});
