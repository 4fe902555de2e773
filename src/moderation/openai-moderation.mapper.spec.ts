import { RISK_CATEGORIES, Verdict } from '../inference';
import { blocklistOutcome } from './moderation-outcome';
import { newModerationId, toOpenAiModerationResponse, toOpenAiModerationResult } from './openai-moderation.mapper';
import { outcomeOf, verdictOf } from '../../test/support/verdicts';

const verdict = (overrides: Partial<Verdict>) => outcomeOf(verdictOf(overrides));

describe('OpenAI moderation mapper', () => {
  it('lists every category, true only for the named ones', () => {
    const result = toOpenAiModerationResult(verdict({ safetyLevel: 'unsafe', categories: ['Violent', 'Jailbreak'] }));
    expect(Object.keys(result.categories)).toEqual([...RISK_CATEGORIES]);
    expect(
      Object.entries(result.categories)
        .filter(([, named]) => named)
        .map(([name]) => name),
    ).toEqual(['Violent', 'Jailbreak']);
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
    expect(controversial).toMatchObject({
      flagged: true,
      qwen3guard_categories: ['Unethical Acts'],
      probabilities: { safe: 0.9, controversial: 0.06, unsafe: 0.04 },
    });
  });

  it('wraps the results with an OpenAI-style id and the model', () => {
    const response = toOpenAiModerationResponse([verdict({}), verdict({ safetyLevel: 'unsafe', categories: ['PII'] })], 'demo');
    expect(response.id).toMatch(/^modr-[0-9a-f]{24}$/);
    expect(response.model).toBe('demo');
    expect(response.results.map((result) => result.flagged)).toEqual([false, true]);
  });

  it('follows the tenant policy for flagged and reports a blocklist short-circuit without model fields', () => {
    const loose = outcomeOf(verdictOf({ safetyLevel: 'controversial', categories: ['Unethical Acts'] }), {
      controversial: 'safe',
      categoryActions: {},
      defaultAction: 'block',
    });
    expect(toOpenAiModerationResult(loose)).toMatchObject({ flagged: false, safety_level: 'controversial', decision: { action: 'allow', source: 'model' } });
    const blocked = toOpenAiModerationResult(blocklistOutcome({ messages: [{ role: 'user', content: 'x' }] }, 'prompt'));
    expect(blocked).toMatchObject({ flagged: true, probabilities: null, qwen3guard_categories: [], decision: { action: 'block', source: 'blocklist' } });
    expect(Object.values(blocked.category_scores).every((score) => score === 0)).toBe(true);
  });

  it('makes a new id every time', () => {
    expect(newModerationId()).not.toBe(newModerationId());
  });
});
