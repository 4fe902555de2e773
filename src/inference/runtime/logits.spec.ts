import { ort } from './onnxruntime';
import { float32ToFloat16Bits } from './float16';
import { argmaxVocabulary, positionLogits, withReadout } from './logits';

/** The reference: every value converted to a number, first of the best wins, NaN never does. */
function slowArgmax(values: readonly number[]): number {
  let best = 0;
  let bestValue = -Infinity;
  values.forEach((value, id) => {
    if (value > bestValue) {
      bestValue = value;
      best = id;
    }
  });
  return best;
}

const CASES: number[][] = [
  [-3, -1, -2],
  [0.5, 2, 2, 1],
  [-0, 0, -1],
  [Number.NaN, -5, -4],
  [-65504, -1e-7, -0.25],
  [1, Number.POSITIVE_INFINITY, 3],
  Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10),
];

describe('argmaxVocabulary', () => {
  it.each(CASES.map((values) => [values.slice(0, 6).join(', '), values]))('float32 and float16 agree with a plain scan: [%s]', (_label, values) => {
    const f32 = new ort.Tensor('float32', Float32Array.from(values), [1, 1, values.length]);
    expect(argmaxVocabulary(positionLogits(f32, 0, 0))).toBe(slowArgmax([...f32.data]));
    const bits = Uint16Array.from(values, float32ToFloat16Bits);
    const f16 = new ort.Tensor('float16', bits, [1, 1, bits.length]);
    const row = positionLogits(f16, 0, 0);
    expect(argmaxVocabulary(row)).toBe(slowArgmax(Array.from(bits, (_, id) => row(id))));
  });

  it('reads the row and position asked for', () => {
    const logits = new ort.Tensor('float32', Float32Array.from([9, 0, 0, 9, 1, 2, 3, 0]), [2, 2, 2]);
    expect([0, 1].flatMap((row) => [0, 1].map((position) => argmaxVocabulary(positionLogits(logits, row, position))))).toEqual([0, 1, 1, 0]);
  });

  it('takes the best ids computed with the tensor, and scans a tensor that has none', () => {
    const logits = new ort.Tensor('float32', Float32Array.from([9, 0, 0, 9]), [1, 2, 2]);
    withReadout(logits, Int32Array.from([1, 0]));
    expect([argmaxVocabulary(positionLogits(logits, 0, 0)), argmaxVocabulary(positionLogits(logits, 0, 1))]).toEqual([1, 0]);
    const replaced = new ort.Tensor('float32', logits.data, logits.dims);
    expect([argmaxVocabulary(positionLogits(replaced, 0, 0)), argmaxVocabulary(positionLogits(replaced, 0, 1))]).toEqual([0, 1]);
  });
});

describe('gathered logits', () => {
  it('reads an id from its column when only some ids came back, and refuses one that did not', () => {
    // Two positions of a vocabulary reduced to ids 7, 3 and 40, best ids found over the whole vocabulary.
    const logits = new ort.Tensor('float32', Float32Array.from([0.5, 2, -1, 4, 3, 9]), [1, 2, 3]);
    withReadout(logits, Int32Array.from([11, 40]), [7, 3, 40]);
    const first = positionLogits(logits, 0, 0);
    const second = positionLogits(logits, 0, 1);
    expect([first(7), first(3), first(40), second(40)]).toEqual([0.5, 2, -1, 9]);
    expect([argmaxVocabulary(first), argmaxVocabulary(second)]).toEqual([11, 40]);
    expect(() => first(5)).toThrow(/token 5 were not read back/);
  });
});
