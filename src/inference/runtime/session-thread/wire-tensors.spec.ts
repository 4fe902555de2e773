import { bestIdsOf, buffersOf, gatherIds, keepLastPositions } from './wire-tensors';

describe('wire tensors', () => {
  it('keeps the last positions of every row, float32 and float16 alike', () => {
    // batch 2 x sequence 3 x vocabulary 2: value = 100 * row + 10 * position + id
    const values = [0, 1, 10, 11, 20, 21, 100, 101, 110, 111, 120, 121];
    for (const data of [Float32Array.from(values), Uint16Array.from(values)]) {
      const tensors = { logits: { type: 'float32' as const, dims: [2, 3, 2], data }, other: { type: 'int64' as const, dims: [1], data: new BigInt64Array(1) } };
      keepLastPositions(tensors, { output: 'logits', positions: 2 });
      expect(tensors.logits.dims).toEqual([2, 2, 2]);
      expect([...(tensors.logits.data as Float32Array)]).toEqual([10, 11, 20, 21, 110, 111, 120, 121]);
      expect(tensors.logits.data.constructor).toBe(data.constructor);
      expect(tensors.other.dims).toEqual([1]);
    }
  });

  it('leaves an output alone when it has no more positions than asked, or is absent', () => {
    const data = new Float32Array(4);
    const tensors = { logits: { type: 'float32' as const, dims: [1, 2, 2], data } };
    keepLastPositions(tensors, { output: 'logits', positions: 2 });
    keepLastPositions(tensors, { output: 'missing', positions: 1 });
    expect(tensors.logits.data).toBe(data);
  });

  it('names each buffer once for a transfer list', () => {
    const shared = new Float32Array(8);
    const own = new Float32Array(2);
    expect(buffersOf({ a: { data: shared.subarray(0, 4) }, b: { data: shared.subarray(4) }, c: { data: own } })).toEqual([shared.buffer, own.buffer]);
  });

  it('finds the best id of every position along the last axis', () => {
    const data = Float32Array.from([0, 5, 1, 9, 2, 3, -1, -2, -3, 7, 7, 0]);
    expect([...bestIdsOf({ type: 'float32', dims: [2, 2, 3], data })]).toEqual([1, 0, 0, 0]);
  });
});

describe('gatherIds', () => {
  it('keeps the asked ids of every position, in the asked order, float32 and float16 alike', () => {
    const values = [0, 1, 2, 3, 10, 11, 12, 13];
    for (const data of [Float32Array.from(values), Uint16Array.from(values)]) {
      const gathered = gatherIds({ type: 'float32', dims: [1, 2, 4], data }, [3, 0]);
      expect(gathered.dims).toEqual([1, 2, 2]);
      expect([...(gathered.data as Float32Array)]).toEqual([3, 0, 13, 10]);
      expect(gathered.data.constructor).toBe(data.constructor);
    }
  });
});
