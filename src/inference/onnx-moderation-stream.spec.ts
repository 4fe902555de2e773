import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomChunks, seededRandom, STREAMED_ANSWERS } from '../../test/support/streamed-answers';
import { ensureDemoModel } from '../synthetic-model/demo-model';
import { OnnxModerationEngine } from './onnx-moderation-engine';
import { ChatMessage, Verdict } from './verdict';

jest.setTimeout(180_000);

const PROMPT: ChatMessage[] = [{ role: 'user', content: 'Tell me a story.' }];

/** Answers that turn flagged part-way (demo trigger words: gun, password, election; sorry for a refusal). */
const TURNING_ANSWERS = [
  'Once upon a time a quiet village had a baker 🍞 who loved his work, until someone brought a gun to the market.',
  '从前有一个小镇，镇上的人都很友好。后来有人问我的密码，我说：抱歉。',
  'Sorry, I cannot talk about the election results 🗳️ today, but the weather is lovely.',
];

function expectSameVerdict(streamed: Verdict, full: Verdict): void {
  expect([streamed.mode, streamed.safetyLevel, streamed.categories, streamed.refusal]).toEqual([full.mode, full.safetyLevel, full.categories, full.refusal]);
  expect(streamed.promptTokens).toBe(full.promptTokens);
  for (const level of ['safe', 'controversial', 'unsafe'] as const) {
    expect(Math.abs(streamed.probabilities[level] - full.probabilities[level])).toBeLessThan(1e-4); // float32 KV
  }
}

describe('ModerationStream', () => {
  let workDir: string;
  let engine: OnnxModerationEngine;
  const full = async (answer: string) => (await engine.moderate([{ messages: [...PROMPT, { role: 'assistant', content: answer }] }]))[0];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'moderation-stream-'));
    engine = new OnnxModerationEngine({
      modelDir: await ensureDemoModel(workDir),
      dtype: 'fp32',
      provider: 'cpu',
      maxNewTokens: 32,
      demo: true,
      intraOpThreads: 1,
    });
    await engine.load();
  });
  afterAll(async () => {
    await engine.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  it.each([...TURNING_ANSWERS, ...STREAMED_ANSWERS].map((answer, i) => [i, answer]))(
    'gives at every check what a full moderation of the answer so far gives (answer %i, random chunkings)',
    async (i, answer) => {
      for (const seed of [1, 2]) {
        const random = seededRandom(seed * 1_000 + Number(i));
        const stream = engine.openStream(PROMPT);
        let soFar = '';
        for (const chunk of randomChunks(answer, random, 16)) {
          stream.append(chunk);
          soFar += chunk;
          if (random() < 0.5) continue; // checks at random points, several chunks apart
          const check = await stream.check();
          expectSameVerdict(check.verdict, await full(soFar));
          expect(check.answerChars).toBe(soFar.length);
        }
        expectSameVerdict((await stream.check()).verdict, await full(answer));
        stream.close();
      }
    },
  );

  it('computes only the new tokens and the tail after the first check, and reuses the rest', async () => {
    const stream = engine.openStream(PROMPT);
    stream.append('A first sentence about gardens and flowers.');
    const first = await stream.check();
    stream.append(' A second one, about trees.');
    const second = await stream.check();
    const tailTokens = second.verdict.promptTokens - stream.tokens;
    const newTokens = second.verdict.promptTokens - first.verdict.promptTokens;
    expect(second.reusedTokens).toBeGreaterThan(first.reusedTokens);
    expect(second.reusedTokens + second.computedTokens).toBe(second.verdict.promptTokens);
    // At least the new tokens and the tail; at most that plus the few tokens kept uncommitted.
    expect(second.computedTokens).toBeGreaterThanOrEqual(newTokens + tailTokens);
    expect(second.computedTokens).toBeLessThanOrEqual(newTokens + tailTokens + 8);
    stream.close();
  });

  it('reports where the verdict first turned flagged', async () => {
    const stream = engine.openStream(PROMPT);
    const parts = ['The market was calm. ', 'Then someone brought a gun. ', 'Later a protest began.'];
    const levels: string[] = [];
    for (const part of parts) {
      stream.append(part);
      levels.push((await stream.check()).verdict.safetyLevel);
    }
    expect(levels).toEqual(['safe', 'unsafe', 'unsafe']);
    expect(stream.firstFlag).toEqual({ check: 2, answerChars: parts[0].length + parts[1].length, safetyLevel: 'unsafe' });
    stream.close();
  });

  it('recomputes after an eviction and gives the same verdict', async () => {
    const stream = engine.openStream(PROMPT);
    stream.append('A calm answer about the weather, with a password hidden inside.');
    const before = await stream.check();
    expect(stream.cachedTokens).toBeGreaterThan(0);
    stream.evict();
    expect(stream.cachedTokens).toBe(0);
    const after = await stream.check();
    expectSameVerdict(after.verdict, before.verdict);
    expect(after.reusedTokens).toBeLessThan(before.reusedTokens + before.computedTokens - 8);
    expect(after.computedTokens).toBeGreaterThan(before.computedTokens - before.reusedTokens);
    stream.close();
    expect(stream.cachedTokens).toBe(0);
    expect(() => stream.append('more')).toThrow(/closed/);
  });

  it('runs checks asked for together one after the other, each on its own text', async () => {
    const stream = engine.openStream(PROMPT);
    stream.append('Hello there.');
    const first = stream.check();
    stream.append(' I will not mention any gun.');
    const second = stream.check();
    const [a, b] = await Promise.all([first, second]);
    expect([a.check, b.check]).toEqual([1, 2]);
    expectSameVerdict(a.verdict, await full('Hello there.'));
    expectSameVerdict(b.verdict, await full('Hello there. I will not mention any gun.'));
    stream.close();
  });

  it('shares the scheduler with other requests, oldest first: no check overtakes a request, nor a request a check', async () => {
    const streams = Array.from({ length: 6 }, () => engine.openStream(PROMPT));
    streams.forEach((stream, i) => stream.append(`Answer number ${i} is about bread.`));
    const finished: string[] = [];
    const track = <T>(name: string, work: Promise<T>) => work.then((value) => (finished.push(name), value));
    const before = streams.slice(0, 3).map((stream, i) => track(`stream ${i}`, stream.check()));
    await new Promise(setImmediate); // a check reaches the queue a few microtasks after it is asked for
    const request = track('request', engine.moderate([{ messages: [{ role: 'user', content: 'A plain question about bread.' }] }]));
    const after = streams.slice(3).map((stream, i) => track(`stream ${i + 3}`, stream.check()));
    await Promise.all([...before, request, ...after]);
    // Oldest first, whatever asked: the request waits for the checks queued before it, and no later check overtakes it.
    expect(finished.slice(0, 3).sort()).toEqual(['stream 0', 'stream 1', 'stream 2']);
    expect(finished[3]).toBe('request');
    for (const stream of streams) stream.close();
  });

  it('opens only on a conversation that ends with the user', () => {
    expect(() => engine.openStream([...PROMPT, { role: 'assistant', content: 'x' }])).toThrow(/user's turn/);
  });
});
