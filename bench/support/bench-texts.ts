import type { ChatMessage, PromptEncoder } from '../../src/inference';
import type { BenchMode } from './inference-results';

const WORDS = (
  'the a river morning garden quiet market window letter travel music paper yellow table story ' +
  'friend simple light winter coffee station mountain evening people city answer bridge summer orange ' +
  'minute number picture garden village ocean pencil library kitchen forest holiday weather'
).split(' ');

/** A deterministic text of about `tokens` tokens (exactly, as the tokenizer counts it). */
function textOfTokens(encoder: PromptEncoder, tokens: number, seed: number): string {
  const words: string[] = [];
  for (let i = 0; encoder.tokenize(words.join(' ')).length < tokens; i++) words.push(WORDS[(seed * 7 + i * 13) % WORDS.length]);
  return words.join(' ');
}

/** A prompt of `tokens` tokens, or a reply whose two turns share them. */
export function conversation(encoder: PromptEncoder, mode: BenchMode, tokens: number, seed: number): ChatMessage[] {
  if (mode === 'prompt') return [{ role: 'user', content: textOfTokens(encoder, tokens, seed) }];
  const half = Math.max(1, Math.round(tokens / 2));
  return [
    { role: 'user', content: textOfTokens(encoder, half, seed) },
    { role: 'assistant', content: textOfTokens(encoder, tokens - half, seed + 1) },
  ];
}
