import { Verdict } from '../inference';
import { blocklistOutcome } from './moderation-outcome';
import { toMilliseconds, toModerationResult, toPredictResponse } from './verdict-response.mapper';
import { outcomeOf, verdictOf } from '../../test/support/verdicts';

const VERDICT: Verdict = verdictOf({
  mode: 'response',
  safetyLevel: 'unsafe',
  categories: ['Violent', 'PII'],
  refusal: false,
  probabilities: { safe: 0.1, controversial: 0.2, unsafe: 0.7 },
  promptTokens: 312,
  cachedTokens: 180,
  generatedTokens: 11,
  timings: { queueSeconds: 0.002, tokenizeSeconds: 0.0012345, prefillSeconds: 0.025, decodeSeconds: 0.0144, totalSeconds: 0.0406 },
});

describe('verdict response mappers', () => {
  it('shapes the /predict contract', () => {
    expect(toPredictResponse(outcomeOf({ ...VERDICT, mode: 'prompt', refusal: null }), 'Qwen3Guard-Gen-0.6B', 41.5)).toEqual({
      safety_level: 'unsafe',
      categories: ['Violent', 'PII'],
      refusal: null,
      probabilities: { safe: 0.1, controversial: 0.2, unsafe: 0.7 },
      decision: { action: 'block', flagged: true, source: 'model' },
      model: 'Qwen3Guard-Gen-0.6B',
      latency_ms: 41.5,
    });
  });

  it('shapes a /v1/moderate result with usage and timings in milliseconds', () => {
    expect(toModerationResult(outcomeOf(VERDICT))).toEqual({
      mode: 'response',
      safety_level: 'unsafe',
      categories: ['Violent', 'PII'],
      refusal: false,
      probabilities: { safe: 0.1, controversial: 0.2, unsafe: 0.7 },
      decision: { action: 'block', flagged: true, source: 'model' },
      usage: { prompt_tokens: 312, cached_tokens: 180, generated_tokens: 11 },
      timing_ms: { queue: 2, tokenize: 1.235, prefill: 25, decode: 14.4, total: 40.6 },
    });
  });

  it('copies the arrays and objects it returns', () => {
    const result = toModerationResult(outcomeOf(VERDICT));
    expect(result.categories).not.toBe(VERDICT.categories);
    expect(result.probabilities).not.toBe(VERDICT.probabilities);
  });

  it("reports a blocklist short-circuit as the tenant's block, with nothing attributed to the model", () => {
    expect(
      toModerationResult(
        blocklistOutcome(
          {
            messages: [
              { role: 'user', content: 'q' },
              { role: 'assistant', content: 'a' },
            ],
          },
          'response',
        ),
      ),
    ).toEqual({
      mode: 'response',
      safety_level: 'unsafe',
      categories: [],
      refusal: null,
      probabilities: null,
      decision: { action: 'block', flagged: true, source: 'blocklist' },
      usage: { prompt_tokens: 0, cached_tokens: 0, generated_tokens: 0 },
      timing_ms: null,
    });
  });

  it('keeps microseconds so fast verdicts do not report 0 ms', () => {
    expect(toMilliseconds(0.0000042)).toBe(0.004);
    expect(toMilliseconds(1.5)).toBe(1500);
  });
});
