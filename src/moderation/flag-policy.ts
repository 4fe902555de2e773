import { SafetyLevel } from '../inference/verdict';

/**
 * Whether a verdict is flagged for OpenAI-style clients. Strict, as Qwen3Guard's own evaluation:
 * controversial counts as flagged. The one place a per-tenant policy will later decide this.
 */
export function isFlagged(level: SafetyLevel): boolean {
  return level === 'unsafe' || level === 'controversial';
}
