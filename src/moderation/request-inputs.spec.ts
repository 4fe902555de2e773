import { fromItem, fromPrompt } from './request-inputs';

describe('request inputs', () => {
  it('turns a text into a one-message user conversation', () => {
    expect(fromPrompt('hello', 'text')).toEqual({
      input: { messages: [{ role: 'user', content: 'hello' }] },
      texts: [{ text: 'hello', field: 'text' }],
    });
  });

  it('turns prompt and response into a two-turn conversation ending with the assistant', () => {
    expect(fromItem({ prompt: 'q', response: 'a' }, 'items.2.')).toEqual({
      input: {
        messages: [
          { role: 'user', content: 'q' },
          { role: 'assistant', content: 'a' },
        ],
      },
      texts: [
        { text: 'q', field: 'items.2.prompt' },
        { text: 'a', field: 'items.2.response' },
      ],
    });
  });

  it('keeps a conversation as sent, locating each message', () => {
    const located = fromItem(
      {
        messages: [
          { role: 'user', content: 'u1' },
          { role: 'assistant', content: 'a1' },
          { role: 'user', content: 'u2' },
        ],
      },
      '',
    );
    expect(located.input.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    expect(located.texts.map((text) => text.field)).toEqual(['messages.0.content', 'messages.1.content', 'messages.2.content']);
  });
});
