import { randomBytes } from 'node:crypto';
import { RISK_CATEGORIES, RiskCategory, Verdict } from '../inference/verdict';
import { OpenAiModerationResponseDto, OpenAiModerationResultDto } from './dto/openai-moderation-response.dto';
import { isFlagged } from './flag-policy';

/** An id shaped like OpenAI's (`modr-` and random hex); it identifies nothing server-side. */
export function newModerationId(): string {
  return `modr-${randomBytes(12).toString('hex')}`;
}

export function toOpenAiModerationResponse(verdicts: readonly Verdict[], model: string): OpenAiModerationResponseDto {
  return { id: newModerationId(), model, results: verdicts.map(toOpenAiModerationResult) };
}

/**
 * Qwen3Guard gives one probability per verdict, not per category, so each named category scores the
 * probability that the text is not safe, P(unsafe) + P(controversial), and the others score 0.
 */
export function toOpenAiModerationResult(verdict: Verdict): OpenAiModerationResultDto {
  const named = new Set<RiskCategory>(verdict.categories);
  const notSafe = verdict.probabilities.unsafe + verdict.probabilities.controversial;
  return {
    flagged: isFlagged(verdict.safetyLevel),
    categories: perCategory((name) => named.has(name)),
    category_scores: perCategory((name) => (named.has(name) ? notSafe : 0)),
    safety_level: verdict.safetyLevel,
    qwen3guard_categories: [...verdict.categories],
    probabilities: { ...verdict.probabilities },
  };
}

function perCategory<T>(valueOf: (name: RiskCategory) => T): Record<RiskCategory, T> {
  return Object.fromEntries(RISK_CATEGORIES.map((name) => [name, valueOf(name)])) as Record<RiskCategory, T>;
}
