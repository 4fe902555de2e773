import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { writeSyntheticModelDirectory } from '../../synthetic-model/model-directory-writer';
import { getModelPreset } from '../../synthetic-model/model-presets';
import { createSeededWeights } from '../../synthetic-model/seeded-weights';
import { AnswerGrammar } from '../answer-format/answer-grammar';
import { AnswerWalk } from '../answer-format/answer-walk';
import { PromptEncoder } from '../answer-format/prompt-encoder';
import { ModelDirectory, readModelDirectory } from '../model-format/model-directory';
import { DecoderSession } from '../runtime/decoder-session';
import { argmaxAmong, lastPositionLogits } from '../runtime/logits';
import { ChatMessage, ModerationMode } from '../verdict';
import { ConstrainedAnswer, ConstrainedDecoder, ConstrainedRequest } from './constrained-decoder';
import { prefill, singleRow } from './prefill';
import { PrefixCache } from './prefix-cache';

jest.setTimeout(300_000);

const SILENT = { log: () => undefined, warn: () => undefined, error: () => undefined };

const WORDS = 'river bomb quiet knife market password letter hate music poison winter coffee station vote secret city bridge pill'.split(' ');

/** Seeded pseudo-random conversations: texts of 1 to 24 words, prompts and replies. */
function randomConversations(seed: number, count: number): ChatMessage[][] {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const text = () => Array.from({ length: 1 + Math.floor(random() * 24) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
  return Array.from({ length: count }, (_, i) =>
    i % 2 === 0
      ? [{ role: 'user', content: text() }]
      : [
          { role: 'user', content: text() },
          { role: 'assistant', content: text() },
        ],
  );
}

/**
 * The reference: the whole prompt prefilled from nothing, then one token per pass, the format's token where it
 * fixes one and the best allowed token where it leaves a choice (the format imposed, as random weights never
 * write it themselves).
 */
async function tokenByToken(session: DecoderSession, grammar: AnswerGrammar, request: ConstrainedRequest) {
  const walk = new AnswerWalk(grammar, request.mode);
  let step = await prefill(session, request.prompt, request.prompt.length, session.emptyCache(1));
  let levelLogits: number[] = [];
  for (let next = walk.next(); next !== undefined; next = walk.next()) {
    const logits = lastPositionLogits(step.logits);
    if (!('forced' in next) && next.phase === 'level') levelLogits = next.choices.map((id) => logits(id));
    const token = 'forced' in next ? next.forced : argmaxAmong(logits, next.choices);
    walk.accept(token);
    if (walk.done) break;
    step = await session.forward(singleRow([token], step.cache.length), step.cache);
  }
  session.discard(step.cache);
  return { safetyLevel: walk.level, categories: walk.categories, refusal: walk.refusal, levelLogits };
}

type Outcome = Pick<ConstrainedAnswer, 'safetyLevel' | 'categories' | 'refusal' | 'levelLogits'>;

/**
 * How far the safety level's logits may move between two ways of decoding. float32: rounding (a one-token pass
 * multiplies the weights by one row, which onnxruntime rounds another way). int8 per token: alone, not at all
 * (asserted below); in a batch, left padding shifts the columns softmax adds up, and that rounding difference
 * can move one value across a quantization step (up to 0.03 seen), where a scale per pass moves them by 0.3 to 0.8.
 */
const LEVEL_LOGIT_TOLERANCE = { fp32: 1e-4, int8: 0.1 };

const answersOf = (outcomes: Outcome[]) => outcomes.map((outcome) => [outcome.safetyLevel, outcome.categories, outcome.refusal]);

function expectSameAnswers(actual: Outcome[], expected: Outcome[], dtype: keyof typeof LEVEL_LOGIT_TOLERANCE): void {
  expect(answersOf(actual)).toEqual(answersOf(expected));
  const tolerance = LEVEL_LOGIT_TOLERANCE[dtype];
  actual.forEach((answer, i) => answer.levelLogits.forEach((logit, j) => expect(Math.abs(logit - expected[i].levelLogits[j])).toBeLessThan(tolerance)));
}

/** What the reference answered across every model: `mode level categories` (0, 1, 2, or 3 for more). */
const covered = new Set<string>();

/** Speculative passes after the prefill for every answer of three or more names, across every model. */
const manyNames: Array<{ names: number; passes: number }> = [];

/** Passes after the prefill for each one-category answer on a fresh decoder, then again right after it. */
const repeatedFirstNames: Array<{ first: number; again: number }> = [];

/**
 * Random weights where verdicts vary: every level, one to several categories, in both modes. int8 runs as
 * the engine runs it on CPU, each token's activations scaled on their own (per-token-int8.ts): a speculative
 * pass then computes every token as a pass of its own would.
 */
describe.each<{ seed: number; dtype: 'fp32' | 'int8' }>([
  { seed: 3, dtype: 'fp32' },
  { seed: 6, dtype: 'fp32' },
  { seed: 7, dtype: 'fp32' },
  { seed: 3, dtype: 'int8' },
  { seed: 7, dtype: 'int8' },
])('speculative constrained decoding on a random model (seed $seed, $dtype)', ({ seed, dtype }) => {
  let workDir: string;
  let directory!: ModelDirectory;
  let session: DecoderSession;
  let grammar: AnswerGrammar;
  let prefixes: PrefixCache;
  let requests: ConstrainedRequest[];
  let reference: Outcome[];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'speculative-spec-'));
    await writeSyntheticModelDirectory(workDir, {
      config: getModelPreset('tiny'),
      weights: createSeededWeights({ seed, std: 0.5 }),
      variants: [{ dtype, io: 'optimum' }],
    });
    directory = readModelDirectory(workDir, dtype === 'int8' ? 'quantized' : 'fp32');
    session = await openSession(true);
    if (dtype === 'int8') expect(session.applied.perTokenQuantizers).toBeGreaterThan(0);
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    grammar = new AnswerGrammar(encoder);
    prefixes = await PrefixCache.build(session, encoder);
    requests = randomConversations(seed, 32).map((messages) => ({ mode: PromptEncoder.modeOf(messages), prompt: encoder.encode(messages) }));
    reference = [];
    for (const request of requests) reference.push(await tokenByToken(session, grammar, request));
    reference.forEach((answer, i) => covered.add(`${requests[i].mode} ${answer.safetyLevel} ${Math.min(answer.categories.length, 3)}`));
  });
  afterAll(async () => {
    await session.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  const openSession = (perTokenInt8: boolean) =>
    DecoderSession.open({
      onnxPath: directory.onnxPath,
      config: directory.config,
      provider: 'cpu',
      intraOpThreads: 1,
      logger: SILENT,
      logitsToKeep: true,
      perTokenInt8,
    });

  it.each([false, true])('gives the token-by-token answers, alone and batched from the prefix cache (speculating: %s)', async (speculate) => {
    const decoder = new ConstrainedDecoder(session, grammar, { verifyFormat: false, speculate });
    const alone: Outcome[] = [];
    for (const request of requests) alone.push((await decoder.run([request], session.emptyCache(1))).answers[0]);
    expectSameAnswers(alone, reference, dtype);
    // int8, alone: the level is read in the prefill's pass, the reference's after one-token passes. Integer
    // products and per-token scales are exact whatever the row count, and the builder's attention never
    // multiplies a one-row matrix (its grouped query heads make two rows or more), so the bits agree.
    if (dtype === 'int8') expect(alone.map((answer) => answer.levelLogits)).toEqual(reference.map((answer) => answer.levelLogits));

    for (const mode of ['prompt', 'response'] as const) {
      const group = requests.filter((request) => request.mode === mode);
      const batched = await decoder.run(group, await prefixes.cacheFor(mode, group.length));
      expectSameAnswers(
        batched.answers,
        reference.filter((_, i) => requests[i].mode === mode),
        dtype,
      );
    }
  });

  it("cuts a lone row's rejected guesses off the cache: no pass of it carries a masked position", async () => {
    const forward = jest.spyOn(session, 'forward');
    const truncate = jest.spyOn(session, 'truncateCache');
    try {
      const decoder = new ConstrainedDecoder(session, grammar, { verifyFormat: false, speculate: true });
      for (const request of requests) await decoder.run([request], await prefixes.cacheFor(request.mode, 1));
      expect(truncate.mock.calls.some(([cache, length]) => length < cache.length)).toBe(true);
      for (const [step] of forward.mock.calls) expect(step.attentionMask.every((bit) => bit === 1n)).toBe(true);
    } finally {
      forward.mockRestore();
      truncate.mockRestore();
    }
  });

  it('never takes more passes speculating, fewer in all, and leaves no cache behind', async () => {
    const passes = async (speculate: boolean) => {
      const decoder = new ConstrainedDecoder(session, grammar, { verifyFormat: false, speculate });
      const steps: number[] = [];
      for (const request of requests) steps.push((await decoder.run([request], await prefixes.cacheFor(request.mode, 1))).decodeSteps);
      return steps;
    };
    const [stepwise, speculative] = [await passes(false), await passes(true)];
    speculative.forEach((steps, i) => expect(steps).toBeLessThanOrEqual(stepwise[i]));
    reference.forEach(({ categories }, i) => categories.length >= 3 && manyNames.push({ names: categories.length, passes: speculative[i] }));
    expect(speculative.reduce((a, b) => a + b)).toBeLessThan(stepwise.reduce((a, b) => a + b));
    // The two prefixes and the last tiled copy.
    expect(await session.residentCaches()).toBe(3);
  });

  if (dtype === 'int8')
    it('does not, as exported with one activation scale per pass (the control)', async () => {
      const perPass = await openSession(false);
      try {
        expect(perPass.applied.perTokenQuantizers).toBe(0);
        const stepwise: Outcome[] = [];
        for (const request of requests) stepwise.push(await tokenByToken(perPass, grammar, request));
        const decoder = new ConstrainedDecoder(perPass, grammar, { verifyFormat: false, speculate: true });
        const speculative: Outcome[] = [];
        for (const request of requests) speculative.push((await decoder.run([request], perPass.emptyCache(1))).answers[0]);
        expect(answersOf(speculative)).not.toEqual(answersOf(stepwise));
      } finally {
        await perPass.close();
      }
    });

  it('guesses the first name its latest answer of the mode began with, and gives the same answer', async () => {
    for (const [i, request] of requests.entries()) {
      if (reference[i].categories.length !== 1) continue;
      const decoder = new ConstrainedDecoder(session, grammar, { verifyFormat: false, speculate: true });
      const first = await decoder.run([request], await prefixes.cacheFor(request.mode, 1));
      const again = await decoder.run([request], await prefixes.cacheFor(request.mode, 1));
      expectSameAnswers([first.answers[0], again.answers[0]], [reference[i], reference[i]], dtype);
      repeatedFirstNames.push({ first: first.decodeSteps, again: again.decodeSteps });
    }
  });

  it('refuses the same rows as step-by-step decoding when the format is verified', async () => {
    const run = (speculate: boolean) => new ConstrainedDecoder(session, grammar, { speculate }).run(requests.slice(0, 2), session.emptyCache(2));
    const [stepwise, speculative] = [await run(false), await run(true)];
    expect(speculative.answers.map((answer) => answer.error?.code)).toEqual(stepwise.answers.map((answer) => answer.error?.code));
  });
});

describe('the random models', () => {
  // Unguessed, each name after the first starts a pass (its first token is read at the end of the one
  // before) and the line's end needs one more: at least one pass per name. Fewer means that names guessed in
  // the model's ranking were confirmed several to a pass.
  it('read some answer of three or more names in fewer passes than it has names', () => {
    expect(manyNames.length).toBeGreaterThan(0);
    expect(manyNames.some(({ names, passes }) => passes < names)).toBe(true);
  });

  // Unguessed, the first name is read at the end of `Categories:`, and its end a pass later.
  it('read a one-category answer in fewer passes once the same name came just before, never in more', () => {
    expect(repeatedFirstNames.length).toBeGreaterThan(0);
    for (const { first, again } of repeatedFirstNames) expect(again).toBeLessThanOrEqual(first);
    expect(repeatedFirstNames.some(({ first, again }) => again < first)).toBe(true);
  });

  it('answered Safe, Controversial, and Unsafe with one, two and more categories, in both modes', () => {
    for (const mode of ['prompt', 'response'] as ModerationMode[]) {
      for (const answer of ['safe 0', 'controversial', 'unsafe 1', 'unsafe 2', 'unsafe 3'])
        expect([...covered].filter((seen) => seen.startsWith(`${mode} ${answer}`))).not.toHaveLength(0);
    }
  });
});
