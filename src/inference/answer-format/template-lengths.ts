import { PromptEncoder } from './prompt-encoder';
import { ChatMessage, ModerationMode } from '../verdict';

/**
 * Token counts of a chat template's fixed text around the conversation, in one mode, as the engine splits a
 * prompt:
 * - `prefix`: the tokens every request of the mode starts with, before the first message's text: the common
 *   token prefix of the template rendered around two conversations that differ in every message, which is
 *   what the prefix cache keeps (a space before the text goes with the text's first word).
 * - `tail`: the tokens after the last message's text, up to and including the generation prompt: what the
 *   prompt's tokenization has beyond the tokenization of its render cut after that text, which every verdict
 *   computes after the text. Measured with texts ending in a letter, where nothing merges across the cut; a
 *   text ending in punctuation can take the tail's first character into its last token (`.` + `\n`).
 */
export interface TemplateLengths {
  prefix: number;
  tail: number;
}

/** Two conversations per mode that differ in every message, each message ending in a letter. */
const PROBES: Record<ModerationMode, [ChatMessage[], ChatMessage[]]> = {
  prompt: [[{ role: 'user', content: 'How do I bake bread at home' }], [{ role: 'user', content: 'z q' }]],
  response: [
    [
      { role: 'user', content: 'How do I bake bread at home' },
      { role: 'assistant', content: 'Mix flour, water, yeast and salt, then let it rise' },
    ],
    [
      { role: 'user', content: 'z q' },
      { role: 'assistant', content: 'y w' },
    ],
  ],
};

/**
 * The tokens every request of the mode starts with: the template rendered around two conversations that differ
 * in every message, and their common token prefix (the prefix cache keeps exactly these).
 */
export function templatePrefix(encoder: PromptEncoder, mode: ModerationMode): number[] {
  const [first, second] = PROBES[mode].map((messages) => encoder.encode(messages));
  let length = 0;
  while (length < first.length && length < second.length && first[length] === second[length]) length++;
  return first.slice(0, length);
}

export function measureTemplateLengths(encoder: PromptEncoder, mode: ModerationMode): TemplateLengths {
  const conversation = PROBES[mode][0];
  const rendered = encoder.render(conversation);
  const text = conversation[conversation.length - 1].content;
  const throughText = encoder.tokenize(rendered.slice(0, rendered.lastIndexOf(text) + text.length));
  return { prefix: templatePrefix(encoder, mode).length, tail: encoder.encode(conversation).length - throughText.length };
}
