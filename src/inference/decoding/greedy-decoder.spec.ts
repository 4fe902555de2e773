import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ensureDemoModel } from '../../synthetic-model/demo-model';
import { DecoderSession } from '../runtime/decoder-session';
import { GreedyPlan, greedyGenerate } from './greedy-decoder';
import { readModelDirectory } from '../model-format/model-directory';
import { PromptEncoder } from '../answer-format/prompt-encoder';

jest.setTimeout(120_000);

describe('greedyGenerate', () => {
  let workDir: string;
  let session: DecoderSession;
  let encoder: PromptEncoder;
  let plan: GreedyPlan;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'greedy-spec-'));
    const directory = readModelDirectory(await ensureDemoModel(workDir), 'fp32');
    const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
    session = await DecoderSession.open({ onnxPath: directory.onnxPath, config: directory.config, provider: 'cpu', intraOpThreads: 1, logger: silent });
    encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    plan = {
      maxNewTokens: 32,
      stopIds: new Set([151645]),
      verdictCue: encoder.tokenize('Safety:'),
      verdictTokens: [' Safe', ' Controversial', ' Unsafe'].map((word) => encoder.tokenize(word)[0]),
    };
  });
  afterAll(async () => {
    await session.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('gives the same answer and verdict logits whatever the prefill chunk size', async () => {
    const prompt = encoder.encode([{ role: 'user', content: `a gun ${'and a long story '.repeat(60)}` }]);
    expect(prompt.length).toBeGreaterThan(300);
    const whole = await greedyGenerate(session, prompt, { ...plan, prefillChunkTokens: prompt.length });
    const chunked = await greedyGenerate(session, prompt, { ...plan, prefillChunkTokens: 37 });
    expect(encoder.decode(whole.tokens)).toBe('Safety: Unsafe\nCategories: Violent');
    expect(chunked.tokens).toEqual(whole.tokens);
    chunked.verdictLogits!.forEach((logit, i) => expect(Math.abs(logit - whole.verdictLogits![i])).toBeLessThan(1e-4));
  });

  it('stops at the token budget', async () => {
    const prompt = encoder.encode([{ role: 'user', content: 'hello' }]);
    const result = await greedyGenerate(session, prompt, { ...plan, maxNewTokens: 3 });
    expect(result.tokens).toHaveLength(3);
    expect(encoder.decode(result.tokens)).toBe('Safety: Safe');
  });

  it('has no verdict logits when the answer never reaches `Safety:`', async () => {
    const prompt = encoder.encode([{ role: 'user', content: 'hello' }]);
    const result = await greedyGenerate(session, prompt, { ...plan, maxNewTokens: 1 });
    expect(result.verdictLogits).toBeNull();
  });

  it('leaves no cache behind in the session thread, also when a pass fails', async () => {
    const prompt = encoder.encode([{ role: 'user', content: 'hello' }]);
    await greedyGenerate(session, prompt, plan);
    expect(await session.residentCaches()).toBe(0);
    // A pass that onnxruntime refuses (a token id past the vocabulary) in the middle of a chunked prefill.
    const outOfVocabulary = [...prompt, 10_000_000];
    await expect(greedyGenerate(session, outOfVocabulary, { ...plan, prefillChunkTokens: 4 })).rejects.toThrow(/onnxruntime failed/);
    expect(await session.residentCaches()).toBe(0);
  });
});
