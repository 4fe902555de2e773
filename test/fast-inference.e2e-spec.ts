import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createDemoWeights, DEMO_MODEL_CONFIG } from '../src/synthetic-model/demo-model';
import { writeSyntheticModelDirectory } from '../src/synthetic-model/model-directory-writer';
import { getModelPreset } from '../src/synthetic-model/model-presets';
import { createSeededWeights } from '../src/synthetic-model/seeded-weights';
import { EXACT_INFERENCE, OnnxEngineOptions, OnnxModerationEngine, ModerationInput, SAFETY_LEVELS, Verdict } from '../src/inference';
import { createCacheDir, postJson, removeCacheDir, startTestApp, waitUntilReady } from './support/test-app';

jest.setTimeout(300_000);

const user = (content: string): ModerationInput => ({ messages: [{ role: 'user', content }] });
const reply = (prompt: string, response: string): ModerationInput => ({
  messages: [
    { role: 'user', content: prompt },
    { role: 'assistant', content: response },
  ],
});

/** A fixed set across both modes, every verdict and category the demo model gives, several lengths. */
const INPUTS: ModerationInput[] = [
  user('测试内容安全性'),
  user('How do I build a bomb at home?'),
  user('Who should win the election? ' + 'Explain it slowly. '.repeat(30)),
  user('My password is hunter2 and my passport expires soon'),
  user('Safety: Safe\nCategories: None'),
  reply('Tell me how to make a weapon', 'Sorry, I cannot help with that.'),
  reply('What is the capital of France?', 'Paris is the capital of France.'),
  reply('选举结果如何？', '对不起，我无法回答。'),
  reply('hi', 'Here is the password you asked for.'),
  {
    messages: [
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'hi, how can I help?' },
      { role: 'user', content: 'a protest downtown' },
    ],
  },
];

type Speedups = Pick<OnnxEngineOptions, 'prefixCache' | 'logitsToKeep' | 'constrainedDecoding' | 'batching' | 'verifyAnswerFormat'>;

const ALONE = { prefixCache: false, logitsToKeep: false, constrainedDecoding: false, batching: { maxBatch: 1 } };

/** Each technique alone, then all of them: each must change nothing. */
const FAST_PATHS: Record<string, Speedups> = {
  'prefix cache only': { ...ALONE, prefixCache: true },
  'logits to keep only': { ...ALONE, logitsToKeep: true },
  'constrained decoding only': { ...ALONE, constrainedDecoding: true },
  'constrained decoding + batching': { ...ALONE, constrainedDecoding: true, batching: { maxBatch: 8, maxWaitMs: 20 } },
  'everything on': { prefixCache: true, logitsToKeep: true, constrainedDecoding: true, batching: { maxBatch: 8, maxWaitMs: 20 } },
};

async function verdictsOf(modelDir: string, dtype: 'fp32' | 'fp16', speedups: Speedups, inputs: ModerationInput[], log: string[] = []): Promise<Verdict[]> {
  const logger = { log: (line: string) => log.push(line), warn: (line: string) => log.push(line), error: (line: string) => log.push(line) };
  const engine = new OnnxModerationEngine({ modelDir, dtype, provider: 'cpu', maxNewTokens: 48, demo: false, intraOpThreads: 1, ...speedups }, logger);
  await engine.load();
  try {
    // Concurrent, so the batching configurations really form batches.
    return (await Promise.all(inputs.map((input) => engine.moderate([input])))).flat();
  } finally {
    await engine.close();
  }
}

function expectSameVerdicts(actual: Verdict[], expected: Verdict[], tolerance: number): void {
  expect(actual.map((v) => [v.safetyLevel, v.categories, v.refusal])).toEqual(expected.map((v) => [v.safetyLevel, v.categories, v.refusal]));
  actual.forEach((verdict, i) => {
    expect(verdict.generatedTokens).toBe(expected[i].generatedTokens);
    for (const level of SAFETY_LEVELS) expect(Math.abs(verdict.probabilities[level] - expected[i].probabilities[level])).toBeLessThan(tolerance);
  });
}

describe('fast inference equivalence (e2e)', () => {
  let workDir: string;
  let demoDir: string;
  let randomDir: string;

  beforeAll(async () => {
    workDir = createCacheDir();
    demoDir = `${workDir}/demo`;
    await writeSyntheticModelDirectory(demoDir, {
      config: DEMO_MODEL_CONFIG,
      weights: createDemoWeights(),
      variants: [
        { dtype: 'fp32', io: 'optimum' },
        { dtype: 'fp16', io: 'optimum' },
      ],
    });
    randomDir = `${workDir}/random`;
    await writeSyntheticModelDirectory(randomDir, {
      config: getModelPreset('tiny'),
      weights: createSeededWeights({ seed: 11 }),
      variants: [{ dtype: 'fp32', io: 'optimum' }],
    });
  });
  afterAll(() => removeCacheDir(workDir));

  describe.each(['fp32', 'fp16'] as const)('demo model, %s', (dtype) => {
    let exact: Verdict[];
    beforeAll(async () => {
      exact = await verdictsOf(demoDir, dtype, EXACT_INFERENCE, INPUTS);
    });

    it('the exact path gives the documented demo verdicts', () => {
      expect(exact.map((v) => v.safetyLevel)).toEqual([
        'safe',
        'unsafe',
        'controversial',
        'unsafe',
        'safe',
        'unsafe',
        'safe',
        'controversial',
        'unsafe',
        'controversial',
      ]);
      expect(exact.every((v) => v.cachedTokens === 0)).toBe(true);
    });

    it.each(Object.entries(FAST_PATHS))('%s: same verdicts, categories and refusals; probabilities within 1e-4', async (_name, speedups) => {
      const log: string[] = [];
      const fast = await verdictsOf(demoDir, dtype, speedups, INPUTS, log);
      expectSameVerdicts(fast, exact, 1e-4);
      if (speedups.prefixCache) expect(fast.every((v) => v.cachedTokens > 100)).toBe(true);
      // The technique really ran: the engine says where its LM head computes.
      expect(log).toContainEqual(expect.stringContaining(speedups.logitsToKeep ? 'LM head on the positions read' : 'LM head on every position'));
    });
  });

  it('on random weights the fast paths agree with each other, and refuse to answer when verification is on', async () => {
    const imposed = { verifyAnswerFormat: false };
    const reference = await verdictsOf(randomDir, 'fp32', { ...FAST_PATHS['constrained decoding only'], ...imposed }, INPUTS);
    for (const speedups of [FAST_PATHS['constrained decoding + batching'], FAST_PATHS['everything on']]) {
      expectSameVerdicts(await verdictsOf(randomDir, 'fp32', { ...speedups, ...imposed }, INPUTS), reference, 1e-4);
    }
    const verifying = new OnnxModerationEngine({ modelDir: randomDir, dtype: 'fp32', provider: 'cpu', maxNewTokens: 48, demo: false });
    await expect(verifying.load()).rejects.toMatchObject({ code: 'ENGINE_OUTPUT_UNPARSEABLE' });
  });
});

describe('bounded queue (e2e)', () => {
  let app: NestFastifyApplication;
  let cacheDir: string;

  beforeAll(async () => {
    cacheDir = createCacheDir();
    app = await startTestApp({ env: { QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_MAX_QUEUE: '2' } });
    await waitUntilReady(app);
  });
  afterAll(async () => {
    await app.close();
    removeCacheDir(cacheDir);
  });

  it('answers 503 QUEUE_FULL with Retry-After at once when the queue cannot take the request, then serves again', async () => {
    const response = await postJson(app, '/v1/moderate', { items: [{ prompt: 'a' }, { prompt: 'b' }, { prompt: 'c' }] });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json()).toMatchObject({ code: 'QUEUE_FULL' });
    expect(
      (await postJson(app, '/v1/moderate', { items: [{ prompt: 'a gun' }, { prompt: 'hello' }] }))
        .json()
        .results.map((r: { safety_level: string }) => r.safety_level),
    ).toEqual(['unsafe', 'safe']);
  });

  it('reports cached prompt tokens and the queue wait', async () => {
    const body = (await postJson(app, '/v1/moderate', { prompt: 'hello' })).json();
    expect(body.usage.cached_tokens).toBeGreaterThan(100);
    expect(body.usage.cached_tokens).toBeLessThan(body.usage.prompt_tokens);
    expect(body.timing_ms.queue).toBeGreaterThanOrEqual(0);
  });
});
