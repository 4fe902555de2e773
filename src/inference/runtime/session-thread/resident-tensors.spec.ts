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

  it('truncates every cache of a set to its first positions, per row and head, in place of the set', () => {
    const residents = new ResidentTensors();
    // [rows 2, heads 2, length 3, headDim 2]: the value at (row, head, position, d) is 1000r + 100h + 10p + d.
    const values = (length: number) =>
      Float32Array.from({ length: 2 * 2 * length * 2 }, (_, i) => {
        const [d, p, h, r] = [i % 2, Math.floor(i / 2) % length, Math.floor(i / (2 * length)) % 2, Math.floor(i / (4 * length))];
        return 1000 * r + 100 * h + 10 * p + d;
      });
    const handle = residents.keep({
      key: new ort.Tensor('float32', values(3), [2, 2, 3, 2]),
      value: new ort.Tensor('float16', Uint16Array.from(values(3)), [2, 2, 3, 2]),
    });
    const truncated = residents.truncate(handle, 2);
    expect(residents.count).toBe(1);
    expect(() => residents.get(handle)).toThrow(/no resident tensors/);
    const { key, value } = residents.get(truncated);
    expect(key.dims).toEqual([2, 2, 2, 2]);
    expect([...(key.data as Float32Array)]).toEqual([...values(2)]);
    expect(value.type).toBe('float16');
    expect([...(value.data as Uint16Array)]).toEqual([...Uint16Array.from(values(2))]);
    expect(() => residents.truncate(truncated, 3)).toThrow(/cannot keep 3 positions/);
    expect(() => residents.truncate(residents.keep(single()), 1)).toThrow(/\[rows, heads, length, headDim\]/);
  });
});
