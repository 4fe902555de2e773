import { Verdict } from '../../src/inference';
import { ModerationOutcome, modelOutcome } from '../../src/moderation/moderation-outcome';
import { STRICT_POLICY, TenantPolicy } from '../../src/tenant/tenant';

/** A verdict as the engine returns it: safe, prompt mode, unless overridden. */
export function verdictOf(overrides: Partial<Verdict> = {}): Verdict {
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

/** The outcome the service reports for a verdict on a one-message input, under a policy (strict by default). */
export function outcomeOf(verdict: Verdict, policy: TenantPolicy = STRICT_POLICY): ModerationOutcome {
  return modelOutcome({ messages: [{ role: 'user', content: 'text' }] }, verdict, policy);
}
