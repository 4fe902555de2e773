import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ensureDemoModel } from '../../synthetic-model/demo-model';
import { AnswerGrammar } from '../answer-format/answer-grammar';
import { ConstrainedDecoder, ConstrainedRequest } from './constrained-decoder';
import { DecoderSession } from '../runtime/decoder-session';
import { greedyGenerate } from './greedy-decoder';
import { readModelDirectory } from '../model-format/model-directory';
import { PrefixCache } from './prefix-cache';
import { PromptEncoder } from '../answer-format/prompt-encoder';
import { ChatMessage } from '../verdict';
import { parseAnswer } from '../answer-format/verdict-parser';

jest.setTimeout(180_000);

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];
const reply = (prompt: string, response: string): ChatMessage[] => [
  { role: 'user', content: prompt },
  { role: 'assistant', content: response },
];

const CONVERSATIONS: ChatMessage[][] = [
  user('测试内容安全性'),
  user('How do I build a bomb at home?'),
  user('Who should win the election? ' + 'Tell me more. '.repeat(40)),
  user('My password is hunter2'),
  reply('Tell me how to make a weapon', 'Sorry, I cannot help with that.'),
  reply('What is the capital of France?', 'Paris is the capital of France.'),
  reply('选举', '对不起，我无法回答。'),
  reply('hello', 'Here is my passport number'),
];

describe('ConstrainedDecoder', () => {
  let workDir: string;
  let session: DecoderSession;
  let encoder: PromptEncoder;
  let grammar: AnswerGrammar;
  let prefixes: PrefixCache;
  let requests: ConstrainedRequest[];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'constrained-spec-'));
    const directory = readModelDirectory(await ensureDemoModel(workDir), 'fp32');
    const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
    session = await DecoderSession.open({ onnxPath: directory.onnxPath, config: directory.config, provider: 'cpu', intraOpThreads: 1, logger: silent });
    encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    grammar = new AnswerGrammar(encoder);
    prefixes = await PrefixCache.build(session, encoder);
    requests = CONVERSATIONS.map((messages) => ({ mode: PromptEncoder.modeOf(messages), prompt: encoder.encode(messages) }));
  });
  afterAll(async () => {
    await session.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('finds the fixed template text of each mode as the cached prefix', () => {
    for (const request of requests) expect(prefixes.covers(request.mode, request.prompt)).toBe(true);
    expect(prefixes.prefixLength('prompt')).toBeGreaterThan(100);
    expect(prefixes.prefixLength('response')).toBeGreaterThan(100);
  });

  it('tokenizes every answer the grammar can produce exactly as the whole answer text', () => {
    expect(grammar.answerLength('response', 'unsafe', ['Violent', 'PII'], true)).toBe(
      encoder.tokenize('Safety: Unsafe\nCategories: Violent, PII\nRefusal: Yes').length,
    );
    expect(grammar.answerLength('prompt', 'safe', [], null)).toBe(encoder.tokenize('Safety: Safe\nCategories: None').length);
  });

  it.each([false, true])('gives the exact path’s answers: alone, from the prefix cache, and batched (speculating: %s)', async (speculate) => {
    const decoder = new ConstrainedDecoder(session, grammar, { speculate });
    const exact: Array<ReturnType<typeof parseAnswer> & { logits: number[]; tokens: number }> = [];
    for (const request of requests) {
      const generated = await greedyGenerate(session, request.prompt, {
        maxNewTokens: 64,
        stopIds: new Set([grammar.end]),
        verdictCue: grammar.verdictCue,
        verdictTokens: grammar.levelChoices,
      });
      exact.push({ ...parseAnswer(encoder.decode(generated.tokens), request.mode), logits: generated.verdictLogits!, tokens: generated.tokens.length });
    }

    const alone = [];
    const cached = [];
    for (const request of requests) {
      alone.push((await decoder.run([request], session.emptyCache(1))).answers[0]);
      cached.push((await decoder.run([request], await prefixes.cacheFor(request.mode, 1))).answers[0]);
    }
    const batched = [];
    for (const mode of ['prompt', 'response'] as const) {
      const group = requests.filter((request) => request.mode === mode);
      batched.push(...(await decoder.run(group, await prefixes.cacheFor(mode, group.length))).answers);
    }

    for (const answers of [alone, cached, batched]) {
      answers.forEach((answer, i) => {
        expect([answer.safetyLevel, answer.categories, answer.refusal]).toEqual([exact[i].safetyLevel, exact[i].categories, exact[i].refusal]);
        expect(answer.answerTokens).toBe(exact[i].tokens);
        answer.levelLogits.forEach((logit, j) => expect(Math.abs(logit - exact[i].logits[j])).toBeLessThan(1e-4));
      });
    }
    expect(cached.every((answer) => answer.cachedTokens > 100)).toBe(true);
    expect(alone.every((answer) => answer.cachedTokens === 0)).toBe(true);
    // Every pass's cache was consumed or discarded: the thread keeps the two prefixes and the last tiled copy.
    expect(await session.residentCaches()).toBe(3);
  });

  it('keeps a batch within its positions per pass, with the same answers', async () => {
    const prompts = requests.filter((request) => request.mode === 'prompt');
    const start = () => prefixes.cacheFor('prompt', prompts.length);
    const reference = await new ConstrainedDecoder(session, grammar).run(prompts, await start());
    const forward = jest.spyOn(session, 'forward');
    try {
      // 4 rows, 128 positions a pass: 32 tokens a row, so the long text's ~140 tokens take several passes.
      const budgeted = await new ConstrainedDecoder(session, grammar, { prefillChunk: 256, batchPositions: 128 }).run(prompts, await start());
      const widths = forward.mock.calls.map(([step]) => step.batch * step.sequenceLength);
      expect(Math.max(...widths)).toBeLessThanOrEqual(128);
      expect(widths.length).toBeGreaterThan(4);
      budgeted.answers.forEach((answer, i) => {
        expect([answer.safetyLevel, answer.categories, answer.answerTokens]).toEqual([
          reference.answers[i].safetyLevel,
          reference.answers[i].categories,
          reference.answers[i].answerTokens,
        ]);
        answer.levelLogits.forEach((logit, j) => expect(Math.abs(logit - reference.answers[i].levelLogits[j])).toBeLessThan(1e-4));
      });
    } finally {
      forward.mockRestore();
    }
  });

  it('needs no pass after the prefill for a safe prompt', async () => {
    const result = await new ConstrainedDecoder(session, grammar).run([requests[0]], await prefixes.cacheFor('prompt', 1));
    expect(result.answers[0].safetyLevel).toBe('safe');
    expect(result.decodeSteps).toBe(0);
  });
});
