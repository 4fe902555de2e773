import { float16BitsToFloat32, float32ToFloat16Bits, fromFloat16Bits, toFloat16Bits } from './float16';

describe('float16 conversion', () => {
  it.each([
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.1, 0x2e66], // 0.0999755859375, the nearest half
    [65504, 0x7bff], // largest finite half
    [65520, 0x7c00], // halfway to the next binade's first value rounds (to even) to Inf
    [1e6, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // exactly half of it: ties to even, i.e. zero
    [1.5 * 2 ** -25, 0x0001], // above half: rounds up
    [1 + 2 ** -11, 0x3c00], // tie between 1 and 1 + 2^-10: to even (1)
    [1 + 3 * 2 ** -11, 0x3c02], // tie between 1 + 2^-10 and 1 + 2^-9: to even (the latter)
  ])('%p -> %p', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('keeps NaN a NaN', () => {
    expect(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(Number.NaN)))).toBe(true);
  });

  it('round-trips every finite half bit pattern exactly', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const finite = all.filter((bits) => (bits & 0x7c00) !== 0x7c00);
    expect(toFloat16Bits(fromFloat16Bits(finite))).toEqual(finite);
  });

  it('rounds to the nearest half (never more than half an ulp away)', () => {
    for (let i = 0; i < 10_000; i++) {
      const value = (Math.sin(i * 12.9898) * 43758.5453) % 1000;
      const half = float16BitsToFloat32(float32ToFloat16Bits(value));
      const ulp = 2 ** (Math.floor(Math.log2(Math.abs(value) || 1)) - 10);
      expect(Math.abs(half - Math.fround(value))).toBeLessThanOrEqual(ulp / 2);
    }
  });
});
