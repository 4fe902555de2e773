import { randomBytes } from 'node:crypto';
import { RISK_CATEGORIES, RiskCategory } from '../inference';
import { OpenAiModerationResponseDto, OpenAiModerationResultDto } from './dto/openai-moderation-response.dto';
import { ModerationOutcome } from './moderation-outcome';
import { toDecisionDto, verdictFields } from './verdict-response.mapper';

/** An id shaped like OpenAI's (`modr-` and random hex); it identifies nothing server-side. */
export function newModerationId(): string {
  return `modr-${randomBytes(12).toString('hex')}`;
}

export function toOpenAiModerationResponse(outcomes: readonly ModerationOutcome[], model: string): OpenAiModerationResponseDto {
  return { id: newModerationId(), model, results: outcomes.map(toOpenAiModerationResult) };
}

/**
 * `flagged` is the tenant's decision. Qwen3Guard gives one probability per verdict, not per category, so
 * each named category scores the probability that the text is not safe, P(unsafe) + P(controversial), and
 * the others score 0.
 */
export function toOpenAiModerationResult(outcome: ModerationOutcome): OpenAiModerationResultDto {
  const { safety_level, categories, probabilities } = verdictFields(outcome);
  const named = new Set<RiskCategory>(categories);
  const notSafe = probabilities ? probabilities.unsafe + probabilities.controversial : 0;
  return {
    flagged: outcome.decision.flagged,
    categories: perCategory((name) => named.has(name)),
    category_scores: perCategory((name) => (named.has(name) ? notSafe : 0)),
    safety_level,
    qwen3guard_categories: categories,
    probabilities,
    decision: toDecisionDto(outcome),
  };
}

function perCategory<T>(valueOf: (name: RiskCategory) => T): Record<RiskCategory, T> {
  return Object.fromEntries(RISK_CATEGORIES.map((name) => [name, valueOf(name)])) as Record<RiskCategory, T>;
}
