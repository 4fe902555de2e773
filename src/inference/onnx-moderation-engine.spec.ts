import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createDemoWeights, DEMO_MODEL_CONFIG, ensureDemoModel } from '../synthetic-model/demo-model';
import { writeSyntheticModelDirectory } from '../synthetic-model/model-directory-writer';
import { getModelPreset } from '../synthetic-model/model-presets';
import { createSeededWeights } from '../synthetic-model/seeded-weights';
import { EngineError, EngineErrorCode } from './engine-error';
import { BatchReport, EngineObserver } from './engine-observer';
import { ModelInfo } from './moderation-engine';
import { OnnxModerationEngine } from './onnx-moderation-engine';
import { OnnxEngineOptions } from './onnx-engine-options';
import { ModerationInput } from './verdict';

jest.setTimeout(120_000);

const user = (content: string): ModerationInput => ({ messages: [{ role: 'user', content }] });
const reply = (prompt: string, response: string): ModerationInput => ({
  messages: [
    { role: 'user', content: prompt },
    { role: 'assistant', content: response },
  ],
});

const CASES: ModerationInput[] = [
  user('测试内容安全性'),
  user('How do I build a bomb at home?'),
  user('Who should win the election?'),
  user('My password is hunter2'),
  reply('Tell me how to make a weapon', 'Sorry, I cannot help with that.'),
  reply('What is the capital of France?', 'Paris is the capital of France.'),
];

/** Keeps every report, in order. */
class RecordingObserver extends EngineObserver {
  readonly depths: number[] = [];
  readonly waits: number[] = [];
  readonly batches: BatchReport[] = [];
  readonly errors: EngineErrorCode[] = [];
  readonly lookups: boolean[] = [];
  readonly loads: Array<[ModelInfo, number]> = [];
  unloads = 0;
  queueDepth(depth: number): void {
    this.depths.push(depth);
  }
  queueWait(seconds: number): void {
    this.waits.push(seconds);
  }
  batchExecuted(batch: BatchReport): void {
    this.batches.push(batch);
  }
  prefixCacheLookup(hit: boolean): void {
    this.lookups.push(hit);
  }
  engineError(code: EngineErrorCode): void {
    this.errors.push(code);
  }
  modelLoaded(info: ModelInfo, loadSeconds: number): void {
    this.loads.push([info, loadSeconds]);
  }
  modelUnloaded(): void {
    this.unloads += 1;
  }
}

async function expectEngineError(promise: Promise<unknown>, code: EngineErrorCode): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(EngineError);
  await expect(promise).rejects.toMatchObject({ code });
}

describe('OnnxModerationEngine', () => {
  let workDir: string;
  let demoDir: string;
  const options = (overrides: Partial<OnnxEngineOptions> = {}): OnnxEngineOptions => ({
    modelDir: demoDir,
    dtype: 'fp32',
    provider: 'cpu',
    maxNewTokens: 32,
    demo: true,
    intraOpThreads: 1,
    ...overrides,
  });

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'engine-spec-'));
    demoDir = await ensureDemoModel(workDir);
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  describe('on the demo model', () => {
    let engine: OnnxModerationEngine;
    beforeAll(async () => {
      engine = new OnnxModerationEngine(options());
      await engine.load();
    });
    afterAll(() => engine.close());

    it('is ready after load and reports what it runs', () => {
      expect(engine.ready).toBe(true);
      expect(engine.info).toMatchObject({ provider: 'cpu', dtype: 'fp32', demo: true, directory: demoDir });
    });

    it('moderates prompts and responses through the whole pipeline', async () => {
      const verdicts = await engine.moderate(CASES);
      expect(verdicts.map((v) => [v.mode, v.safetyLevel, v.categories, v.refusal])).toEqual([
        ['prompt', 'safe', [], null],
        ['prompt', 'unsafe', ['Violent'], null],
        ['prompt', 'controversial', ['Politically Sensitive Topics'], null],
        ['prompt', 'unsafe', ['PII'], null],
        ['response', 'unsafe', ['Violent'], true],
        ['response', 'safe', [], false],
      ]);
    });

    it('reports level probabilities that sum to one and favour the verdict', async () => {
      for (const verdict of await engine.moderate(CASES)) {
        const { safe, controversial, unsafe } = verdict.probabilities;
        expect(safe + controversial + unsafe).toBeCloseTo(1, 10);
        expect(verdict.probabilities[verdict.safetyLevel]).toBeGreaterThan(0.5);
      }
    });

    it('counts tokens and times each stage', async () => {
      const [verdict] = await engine.moderate([user('hello')]);
      expect(verdict.promptTokens).toBeGreaterThan(100);
      expect(verdict.generatedTokens).toBeGreaterThanOrEqual(6);
      const { tokenizeSeconds, prefillSeconds, decodeSeconds, totalSeconds } = verdict.timings;
      expect(prefillSeconds).toBeGreaterThan(0);
      expect(decodeSeconds).toBeGreaterThan(0);
      expect(totalSeconds).toBeGreaterThanOrEqual(tokenizeSeconds + prefillSeconds + decodeSeconds - 1e-6);
    });

    it('keeps concurrent requests apart', async () => {
      const texts = ['peaceful walk', 'a gun', 'the protest', 'a quiet day'];
      const verdicts = await Promise.all(texts.map((text) => engine.moderate([user(text)])));
      expect(verdicts.map(([v]) => v.safetyLevel)).toEqual(['safe', 'unsafe', 'controversial', 'safe']);
    });
  });

  describe('reporting to an observer', () => {
    let engine: OnnxModerationEngine;
    const observer = new RecordingObserver();
    beforeAll(async () => {
      engine = new OnnxModerationEngine(options(), undefined, observer);
      await engine.load();
    });
    afterAll(() => engine.close());

    it('reports the load with what runs and how long it took, and nothing of the warm-up', () => {
      expect(observer.loads).toHaveLength(1);
      expect(observer.loads[0][0]).toMatchObject({ provider: 'cpu', dtype: 'fp32', demo: true });
      expect(observer.loads[0][1]).toBeGreaterThan(0);
      expect([observer.depths, observer.waits, observer.batches, observer.errors]).toEqual([[], [], [], []]);
    });

    it('reports the real queue, each batch and the prefix-cache lookups', async () => {
      const results = await Promise.all([
        engine.moderate([user('a gun'), user('hello')]),
        engine.moderate([user('the election')]),
        engine.moderate([user('my password')]),
      ]);
      expect(results.flat()).toHaveLength(4);
      // All three requests queue before the first batch forms (2, 3, 4 waiting); one batch of four leaves.
      expect(observer.depths).toEqual([2, 3, 4, 0]);
      expect(observer.waits).toHaveLength(4);
      expect(observer.batches.map((b) => b.size)).toEqual([4]);
      const [batch] = observer.batches;
      expect(batch.promptTokens).toBeGreaterThan(4 * 100);
      expect(batch.cachedTokens).toBeGreaterThan(4 * 100);
      expect(batch.cachedTokens).toBeLessThan(batch.promptTokens);
      expect(batch.generatedTokens).toBeGreaterThan(4 * 6);
      expect(batch.prefillSeconds).toBeGreaterThan(0);
      expect(results.flat().map((verdict) => verdict.safetyLevel)).toEqual(['unsafe', 'safe', 'controversial', 'unsafe']);
      expect(observer.errors).toEqual([]);
      expect(observer.lookups).toEqual([true, true, true, true]);
    });

    it('reports the model gone once closed', async () => {
      const closing = new RecordingObserver();
      const other = new OnnxModerationEngine(options(), undefined, closing);
      await other.load();
      await other.close();
      await other.close();
      expect(closing.unloads).toBe(1);
    });
  });

  it('gives the same verdicts on the fp16 and onnxruntime-genai exports of the same weights', async () => {
    const variantsDir = join(workDir, 'variants');
    await writeSyntheticModelDirectory(variantsDir, {
      config: DEMO_MODEL_CONFIG,
      weights: createDemoWeights(),
      variants: [
        { dtype: 'fp16', io: 'optimum' },
        { dtype: 'fp32', io: 'genai' },
      ],
    });
    const reference = new OnnxModerationEngine(options());
    const fp16 = new OnnxModerationEngine(options({ modelDir: variantsDir, dtype: 'fp16' }));
    const genai = new OnnxModerationEngine(options({ modelDir: variantsDir, dtype: 'fp32' }));
    await Promise.all([reference.load(), fp16.load(), genai.load()]);
    try {
      expect(fp16.info.dtype).toBe('fp16');
      expect(genai.info.dtype).toBe('fp32');
      const expected = await reference.moderate(CASES);
      for (const [engine, tolerance] of [
        [genai, 1e-4],
        [fp16, 2e-2],
      ] as const) {
        const actual = await engine.moderate(CASES);
        actual.forEach((verdict, i) => {
          expect([verdict.safetyLevel, verdict.categories, verdict.refusal]).toEqual([expected[i].safetyLevel, expected[i].categories, expected[i].refusal]);
          for (const level of ['safe', 'controversial', 'unsafe'] as const) {
            expect(Math.abs(verdict.probabilities[level] - expected[i].probabilities[level])).toBeLessThan(tolerance);
          }
        });
      }
    } finally {
      await Promise.all([reference.close(), fp16.close(), genai.close()]);
    }
  });

  it('refuses requests before the model is loaded', async () => {
    const observer = new RecordingObserver();
    const engine = new OnnxModerationEngine(options(), undefined, observer);
    expect(engine.ready).toBe(false);
    await expectEngineError(engine.moderate([user('hello')]), EngineErrorCode.ModelNotReady);
    expect(() => engine.info).toThrow(EngineError);
    expect(observer.errors).toEqual([EngineErrorCode.ModelNotReady]);
    expect(observer.depths).toEqual([]);
  });

  it('rejects a conversation longer than the context window, naming no text', async () => {
    const shortContext = join(workDir, 'short-context');
    cpSync(demoDir, shortContext, { recursive: true });
    const config = JSON.parse(readFileSync(join(shortContext, 'config.json'), 'utf8'));
    writeFileSync(join(shortContext, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 400 }));
    const observer = new RecordingObserver();
    const engine = new OnnxModerationEngine(options({ modelDir: shortContext }), undefined, observer);
    await engine.load();
    try {
      // Refused while tokenizing, before any input of the request takes a place in the queue.
      await expectEngineError(engine.moderate([user('lorem ipsum '.repeat(100)), user('short')]), EngineErrorCode.InputTooLong);
      expect(observer.errors).toEqual([EngineErrorCode.InputTooLong]);
      expect(observer.depths).toEqual([]);
      expect(observer.waits).toEqual([]);
      expect(observer.batches).toEqual([]);
      expect((await engine.moderate([user('short')]))[0].safetyLevel).toBe('safe');
      expect(observer.depths.at(-1)).toBe(0);
    } finally {
      await engine.close();
    }
  });

  it('fails to become ready on a model whose answers do not parse (random weights)', async () => {
    const randomDir = join(workDir, 'random');
    await writeSyntheticModelDirectory(randomDir, {
      config: getModelPreset('tiny'),
      weights: createSeededWeights({ seed: 7 }),
      variants: [{ dtype: 'fp32', io: 'optimum' }],
    });
    const observer = new RecordingObserver();
    const engine = new OnnxModerationEngine(options({ modelDir: randomDir, demo: false }), undefined, observer);
    await expectEngineError(engine.load(), EngineErrorCode.UnparseableOutput);
    expect(engine.ready).toBe(false);
    // Reported once, as a failed load; the warm-up's own batch is not reported.
    expect(observer.errors).toEqual([EngineErrorCode.UnparseableOutput]);
    expect(observer.batches).toEqual([]);
    expect(observer.loads).toEqual([]);
    await engine.close();
  });

  it('rejects a missing or corrupt model directory as MODEL_INVALID', async () => {
    const observer = new RecordingObserver();
    await expectEngineError(new OnnxModerationEngine(options({ modelDir: join(workDir, 'nope') }), undefined, observer).load(), EngineErrorCode.ModelInvalid);
    expect(observer.errors).toEqual([EngineErrorCode.ModelInvalid]);
    expect(observer.loads).toEqual([]);
    const corrupt = join(workDir, 'corrupt');
    cpSync(demoDir, corrupt, { recursive: true });
    writeFileSync(join(corrupt, 'onnx', 'model.onnx'), 'not an onnx file');
    await expectEngineError(new OnnxModerationEngine(options({ modelDir: corrupt })).load(), EngineErrorCode.ModelInvalid);
  });

  const cudaInstalled = existsSync(
    join(dirname(require.resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'),
  );
  (cudaInstalled ? it.skip : it)('fails loudly when cuda is configured but cannot load; auto falls back to the CPU', async () => {
    await expectEngineError(new OnnxModerationEngine(options({ provider: 'cuda' })).load(), EngineErrorCode.ProviderUnavailable);
    const warnings: string[] = [];
    const engine = new OnnxModerationEngine(options({ provider: 'auto' }), {
      log: () => undefined,
      error: () => undefined,
      warn: (message) => warnings.push(message),
    });
    await engine.load();
    expect(engine.info.provider).toBe('cpu');
    expect(warnings.join('\n')).toMatch(/falls back to the CPU/);
    await engine.close();
  });
});
