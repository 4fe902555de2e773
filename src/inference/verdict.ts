/** The model's verdict vocabulary, exactly as Qwen3Guard-Gen prints it, and the shapes the engine returns. */

export const SAFETY_LEVELS = ['safe', 'controversial', 'unsafe'] as const;
export type SafetyLevel = (typeof SAFETY_LEVELS)[number];

/** Category names as the model prints them. `Jailbreak` is only produced in prompt moderation. */
export const RISK_CATEGORIES = [
  'Violent',
  'Non-violent Illegal Acts',
  'Sexual Content or Sexual Acts',
  'PII',
  'Suicide & Self-Harm',
  'Unethical Acts',
  'Politically Sensitive Topics',
  'Copyright Violation',
  'Jailbreak',
] as const;
export type RiskCategory = (typeof RISK_CATEGORIES)[number];

/** Prompt moderation judges the last user message; response moderation judges the last assistant message. */
export type ModerationMode = 'prompt' | 'response';

export interface ChatMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface ModerationInput {
  /** A conversation; its last message decides the mode (user -> prompt, assistant -> response). */
  messages: ChatMessage[];
}

export interface VerdictTimings {
  /** Seconds the input waited in the engine's queue for a batch. */
  queueSeconds: number;
  /** Seconds spent tokenizing and rendering the template. */
  tokenizeSeconds: number;
  /** Seconds in the forward pass over the prompt (its batch's, shared by the batch's rows). */
  prefillSeconds: number;
  /** Seconds spent on the answer after the prompt (its batch's). */
  decodeSeconds: number;
  totalSeconds: number;
}

export interface Verdict {
  mode: ModerationMode;
  safetyLevel: SafetyLevel;
  categories: RiskCategory[];
  /** `Refusal: Yes|No` in response mode; null in prompt mode. */
  refusal: boolean | null;
  /** Softmax over the three verdict tokens at the position after `Safety:`. */
  probabilities: Record<SafetyLevel, number>;
  promptTokens: number;
  /** Prompt tokens whose keys and values came from the prefix cache instead of being computed. */
  cachedTokens: number;
  generatedTokens: number;
  timings: VerdictTimings;
}
