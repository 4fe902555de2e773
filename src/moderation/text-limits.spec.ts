import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { assertBatchFits, assertTextsFit, characterCount } from './text-limits';

describe('text limits', () => {
  it('counts code points, stopping once past the limit', () => {
    expect(characterCount('abc', 10)).toBe(3);
    expect(characterCount('😀😀😀', 3)).toBe(3);
    expect(characterCount('😀😀😀😀', 3)).toBe(4);
    expect(characterCount('x'.repeat(1000), 5)).toBe(6);
  });

  it('accepts texts at the limit', () => {
    expect(() => assertTextsFit([{ text: 'abcde', field: 'text' }], 5)).not.toThrow();
  });

  it('names the first text over the limit, without quoting it', () => {
    let thrown: unknown;
    try {
      assertTextsFit(
        [
          { text: 'ok', field: 'items.0.prompt' },
          { text: 'secret-secret', field: 'items.1.prompt' },
        ],
        5,
      );
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ApiException);
    expect(thrown).toMatchObject({ code: ErrorCode.TextTooLong, field: 'items.1.prompt', message: 'items.1.prompt is longer than 5 characters' });
  });

  it('bounds batches', () => {
    expect(() => assertBatchFits(3, 'items', 3)).not.toThrow();
    expect(() => assertBatchFits(4, 'items', 3)).toThrow(expect.objectContaining({ code: ErrorCode.ValidationFailed, field: 'items' }));
  });
});
