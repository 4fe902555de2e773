import { Verdict } from '../inference/verdict';
import { ModerationResultDto } from './dto/moderation-result.dto';
import { PredictResponseDto } from './dto/predict-response.dto';

/** Seconds to milliseconds, kept to the microsecond so small models do not report 0. */
export function toMilliseconds(seconds: number): number {
  return Math.round(seconds * 1_000_000) / 1000;
}

/** The original /predict shape. */
export function toPredictResponse(verdict: Verdict, model: string, latencyMs: number): PredictResponseDto {
  return {
    safety_level: verdict.safetyLevel,
    categories: [...verdict.categories],
    refusal: verdict.refusal,
    probabilities: { ...verdict.probabilities },
    model,
    latency_ms: latencyMs,
  };
}

/** One /v1/moderate result. */
export function toModerationResult(verdict: Verdict): ModerationResultDto {
  return {
    mode: verdict.mode,
    safety_level: verdict.safetyLevel,
    categories: [...verdict.categories],
    refusal: verdict.refusal,
    probabilities: { ...verdict.probabilities },
    usage: { prompt_tokens: verdict.promptTokens, cached_tokens: verdict.cachedTokens, generated_tokens: verdict.generatedTokens },
    timing_ms: {
      queue: toMilliseconds(verdict.timings.queueSeconds),
      tokenize: toMilliseconds(verdict.timings.tokenizeSeconds),
      prefill: toMilliseconds(verdict.timings.prefillSeconds),
      decode: toMilliseconds(verdict.timings.decodeSeconds),
      total: toMilliseconds(verdict.timings.totalSeconds),
    },
  };
}
