import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { fromItem, fromOpenAiInput, fromPrompt } from './request-inputs';

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

  it('leaves system messages out of what the model judges, locating the others where they were sent', () => {
    const located = fromItem(
      {
        messages: [
          { role: 'system', content: 'You are a helpful assistant.' },
          { role: 'user', content: 'u1' },
          { role: 'assistant', content: 'a1' },
        ],
      },
      'items.1.',
    );
    expect(located.input.messages).toEqual([
      { role: 'user', content: 'u1' },
      { role: 'assistant', content: 'a1' },
    ]);
    expect(located.texts).toEqual([
      { text: 'u1', field: 'items.1.messages.1.content' },
      { text: 'a1', field: 'items.1.messages.2.content' },
    ]);
  });

  it('turns each OpenAI input entry, string or text part, into a user prompt', () => {
    expect(fromOpenAiInput('x')).toEqual([fromPrompt('x', 'input')]);
    expect(fromOpenAiInput(['x', { type: 'text', text: 'y' }])).toEqual([fromPrompt('x', 'input.0'), fromPrompt('y', 'input.1.text')]);
  });

  it('refuses an image part by name, at its place in the list', () => {
    let refusal: unknown;
    try {
      fromOpenAiInput(['x', { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }]);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ApiException);
    expect(refusal).toMatchObject({ code: ErrorCode.TextInputOnly, field: 'input.1', message: expect.stringContaining('text only') });
  });
});
