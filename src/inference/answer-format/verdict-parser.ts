import { EngineError, EngineErrorCode } from '../engine-error';
import { ModerationMode, RISK_CATEGORIES, RiskCategory, SafetyLevel } from '../verdict';

export interface ParsedAnswer {
  safetyLevel: SafetyLevel;
  categories: RiskCategory[];
  refusal: boolean | null;
}

const SAFETY_LINE = /Safety:\s*(Safe|Unsafe|Controversial)\b/;
const CATEGORIES_LINE = /Categories:([^\n]*)/;
const REFUSAL_LINE = /Refusal:\s*(Yes|No)\b/;
/** One alternation over the exact category names; longest first so no name matches inside another. */
const CATEGORY_NAME = new RegExp(
  [...RISK_CATEGORIES, 'None']
    .sort((a, b) => b.length - a.length)
    .map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|'),
  'g',
);

/**
 * Reads the model's answer. Anything that does not follow the format is an engine error: a verdict
 * is never guessed from partial output.
 */
export function parseAnswer(text: string, mode: ModerationMode): ParsedAnswer {
  const safety = SAFETY_LINE.exec(text);
  const categoriesLine = CATEGORIES_LINE.exec(text);
  if (!safety || !categoriesLine) {
    throw unparseable(mode, 'no Safety or Categories line');
  }
  const names: string[] = categoriesLine[1].match(CATEGORY_NAME) ?? [];
  if (names.length === 0) {
    throw unparseable(mode, 'the Categories line names no known category');
  }
  const refusal = REFUSAL_LINE.exec(text);
  if (mode === 'response' && !refusal) {
    throw unparseable(mode, 'no Refusal line');
  }
  return {
    safetyLevel: safety[1].toLowerCase() as SafetyLevel,
    categories: [...new Set(names.filter((name): name is RiskCategory => name !== 'None'))],
    refusal: mode === 'response' ? refusal![1] === 'Yes' : null,
  };
}

function unparseable(mode: ModerationMode, reason: string): EngineError {
  // The model's answer may echo the moderated text, so it stays out of the message.
  return new EngineError(EngineErrorCode.UnparseableOutput, `the model's ${mode}-moderation answer does not follow the Qwen3Guard format (${reason})`);
}
