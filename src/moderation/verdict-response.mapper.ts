import { SafetyLevel, Verdict } from '../inference';
import { ModerationOutcome } from './moderation-outcome';
import { ModerationResultDto } from './dto/moderation-result.dto';
import { PredictResponseDto } from './dto/predict-response.dto';
import { DecisionDto } from './dto/decision.dto';

/** Seconds to milliseconds, kept to the microsecond so small models do not report 0. */
export function toMilliseconds(seconds: number): number {
  return Math.round(seconds * 1_000_000) / 1000;
}

/**
 * The verdict fields every endpoint reports. Without a verdict (a blocklist short-circuit) the level is the
 * tenant's block, `unsafe`, with no categories and no probabilities: nothing is attributed to the model.
 */
export function verdictFields(outcome: ModerationOutcome) {
  const { verdict } = outcome;
  return {
    safety_level: reportedSafetyLevel(outcome),
    categories: verdict ? [...verdict.categories] : [],
    refusal: verdict?.refusal ?? null,
    probabilities: verdict ? { ...verdict.probabilities } : null,
  };
}

/** The level an answer reports for an outcome (see {@link verdictFields}). */
export function reportedSafetyLevel({ verdict }: ModerationOutcome): SafetyLevel {
  return verdict?.safetyLevel ?? 'unsafe';
}

export function toDecisionDto({ decision }: ModerationOutcome): DecisionDto {
  return { action: decision.action, flagged: decision.flagged, source: decision.source };
}

/** The original /predict shape, with the tenant's decision added beside it. */
export function toPredictResponse(outcome: ModerationOutcome, model: string, latencyMs: number): PredictResponseDto {
  return { ...verdictFields(outcome), decision: toDecisionDto(outcome), model, latency_ms: latencyMs };
}

/** One /v1/moderate result. */
export function toModerationResult(outcome: ModerationOutcome): ModerationResultDto {
  const { verdict } = outcome;
  return {
    mode: outcome.mode,
    ...verdictFields(outcome),
    decision: toDecisionDto(outcome),
    usage: { prompt_tokens: verdict?.promptTokens ?? 0, cached_tokens: verdict?.cachedTokens ?? 0, generated_tokens: verdict?.generatedTokens ?? 0 },
    timing_ms: verdict ? timingOf(verdict) : null,
  };
}

function timingOf({ timings }: Verdict): ModerationResultDto['timing_ms'] {
  return {
    queue: toMilliseconds(timings.queueSeconds),
    tokenize: toMilliseconds(timings.tokenizeSeconds),
    prefill: toMilliseconds(timings.prefillSeconds),
    decode: toMilliseconds(timings.decodeSeconds),
    total: toMilliseconds(timings.totalSeconds),
  };
}
