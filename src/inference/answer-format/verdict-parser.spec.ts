import { EngineError, EngineErrorCode } from '../engine-error';
import { parseAnswer } from './verdict-parser';

describe('parseAnswer', () => {
  it('reads a prompt-moderation answer', () => {
    expect(parseAnswer('Safety: Unsafe\nCategories: Violent', 'prompt')).toEqual({
      safetyLevel: 'unsafe',
      categories: ['Violent'],
      refusal: null,
    });
  });

  it('maps None to no categories', () => {
    expect(parseAnswer('Safety: Safe\nCategories: None', 'prompt').categories).toEqual([]);
  });

  it('reads several categories, including names that contain other names', () => {
    const answer = parseAnswer('Safety: Controversial\nCategories: Non-violent Illegal Acts, Sexual Content or Sexual Acts, Unethical Acts', 'prompt');
    expect(answer.categories).toEqual(['Non-violent Illegal Acts', 'Sexual Content or Sexual Acts', 'Unethical Acts']);
  });

  it('reads the refusal line in response mode', () => {
    const answer = parseAnswer('Safety: Safe\nCategories: None\nRefusal: Yes', 'response');
    expect(answer).toEqual({ safetyLevel: 'safe', categories: [], refusal: true });
    expect(parseAnswer('Safety: Unsafe\nCategories: PII\nRefusal: No', 'response').refusal).toBe(false);
  });

  it.each([
    ['empty output', ''],
    ['no verdict', 'Categories: None'],
    ['an unknown level', 'Safety: Maybe\nCategories: None'],
    ['no categories line', 'Safety: Safe'],
    ['unknown category names only', 'Safety: Unsafe\nCategories: Weather'],
    ['random text', 'the quick brown fox'],
  ])('refuses to guess from %s', (_case, text) => {
    expect(() => parseAnswer(text, 'prompt')).toThrow(EngineError);
    try {
      parseAnswer(text, 'prompt');
    } catch (error) {
      expect((error as EngineError).code).toBe(EngineErrorCode.UnparseableOutput);
    }
  });

  it('requires the refusal line in response mode only', () => {
    expect(() => parseAnswer('Safety: Safe\nCategories: None', 'response')).toThrow(/Refusal/);
    expect(parseAnswer('Safety: Safe\nCategories: None', 'prompt').refusal).toBeNull();
  });

  it('never puts the answer text into the error message', () => {
    expect(() => parseAnswer('secret user words', 'prompt')).toThrow(expect.objectContaining({ message: expect.not.stringContaining('secret') }));
  });
});
