import { SafetyLevel } from '../inference';

/**
 * Exit codes, chosen for shell pipelines and git hooks: `moderate` exits with its verdict, and every
 * failure of any command (a bad option included) is 3, never a code that could read as a verdict.
 */
export const EXIT_VERDICT: Readonly<Record<SafetyLevel, number>> = { safe: 0, unsafe: 1, controversial: 2 };
export const EXIT_FAILURE = 3;
