import { halfToFloat } from './float16';

describe('halfToFloat', () => {
  it.each([
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0xfc00, -Infinity],
  ])('decodes 0x%s', (bits, expected) => {
    expect(halfToFloat(bits)).toBe(expected);
  });

  it('decodes NaN', () => {
    expect(halfToFloat(0x7e00)).toBeNaN();
  });
});
