import { RISK_CATEGORIES, Verdict } from '../inference/verdict';
import { isFlagged } from './flag-policy';
import { newModerationId, toOpenAiModerationResponse, toOpenAiModerationResult } from './openai-moderation.mapper';

function verdict(overrides: Partial<Verdict>): Verdict {
  return {
    mode: 'prompt',
    safetyLevel: 'safe',
    categories: [],
    refusal: null,
    probabilities: { safe: 0.9, controversial: 0.06, unsafe: 0.04 },
    promptTokens: 100,
    cachedTokens: 0,
    generatedTokens: 7,
    timings: { queueSeconds: 0, tokenizeSeconds: 0, prefillSeconds: 0, decodeSeconds: 0, totalSeconds: 0 },
    ...overrides,
  };
}

describe('isFlagged (strict policy)', () => {
  it.each([
    ['safe', false],
    ['controversial', true],
    ['unsafe', true],
  ] as const)('%s -> %s', (level, flagged) => {
    expect(isFlagged(level)).toBe(flagged);
  });
});

describe('OpenAI moderation mapper', () => {
  it('lists every category, true only for the named ones', () => {
    const result = toOpenAiModerationResult(verdict({ safetyLevel: 'unsafe', categories: ['Violent', 'Jailbreak'] }));
    expect(Object.keys(result.categories)).toEqual([...RISK_CATEGORIES]);
    expect(Object.entries(result.categories).filter(([, named]) => named).map(([name]) => name)).toEqual(['Violent', 'Jailbreak']);
  });

  it('scores named categories P(unsafe) + P(controversial) and the rest 0', () => {
    const result = toOpenAiModerationResult(
      verdict({ safetyLevel: 'controversial', categories: ['Politically Sensitive Topics'], probabilities: { safe: 0.25, controversial: 0.5, unsafe: 0.25 } }),
    );
    expect(result.category_scores['Politically Sensitive Topics']).toBe(0.75);
    expect(Object.keys(result.category_scores)).toEqual([...RISK_CATEGORIES]);
    const others = Object.entries(result.category_scores).filter(([name]) => name !== 'Politically Sensitive Topics');
    expect(others.every(([, score]) => score === 0)).toBe(true);
  });

  it('flags unsafe and controversial verdicts and carries the Qwen3Guard fields', () => {
    const safe = toOpenAiModerationResult(verdict({}));
    expect(safe).toMatchObject({ flagged: false, safety_level: 'safe', qwen3guard_categories: [] });
    const controversial = toOpenAiModerationResult(verdict({ safetyLevel: 'controversial', categories: ['Unethical Acts'] }));
    expect(controversial).toMatchObject({ flagged: true, qwen3guard_categories: ['Unethical Acts'], probabilities: { safe: 0.9, controversial: 0.06, unsafe: 0.04 } });
  });

  it('wraps the results with an OpenAI-style id and the model', () => {
    const response = toOpenAiModerationResponse([verdict({}), verdict({ safetyLevel: 'unsafe', categories: ['PII'] })], 'demo');
    expect(response.id).toMatch(/^modr-[0-9a-f]{24}$/);
    expect(response.model).toBe('demo');
    expect(response.results.map((result) => result.flagged)).toEqual([false, true]);
  });

  it('makes a new id every time', () => {
    expect(newModerationId()).not.toBe(newModerationId());
  });
});
