/**
 * The engine's dtype when QWEN3GUARD_DTYPE is unset (defaultDtype): the int8 file on the CPU provider wherever
 * the model has one, fp32 otherwise, and an explicit dtype always wins. Run on the committed reference export
 * (optimum's fp32 and fp16 files and quantize_int8.py's model_quantized.onnx); official-exports.e2e-spec.ts holds
 * that int8 file to transformers' verdicts. Random weights: the answer format is not verified at warm-up.
 */
import { rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ModelDtype, OnnxModerationEngine } from '../../src/inference';
import { linkExport, loadReferenceSet, COMMITTED_REFERENCE_DIR } from './support/reference-set';

jest.setTimeout(120_000);

const set = loadReferenceSet(COMMITTED_REFERENCE_DIR);
const int8 = set.manifest.exports.find((entry) => entry.name === 'optimum-int8')!;

async function load(dir: string, dtype?: ModelDtype) {
  const lines: string[] = [];
  const logger = { log: (line: string) => lines.push(line), warn: () => undefined, error: () => undefined };
  const engine = new OnnxModerationEngine(
    { modelDir: dir, dtype, provider: 'cpu', maxNewTokens: 16, demo: false, intraOpThreads: 1, verifyAnswerFormat: false },
    logger,
  );
  await engine.load();
  const info = engine.info;
  await engine.close();
  return { info, loaded: lines.find((line) => line.startsWith('loaded ')) ?? '' };
}

describe('the dtype the engine loads when none is configured', () => {
  let dir: string;
  beforeAll(() => {
    dir = linkExport(set, int8);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is the int8 file on the CPU provider, and the start-up log says which file and why', async () => {
    const { info, loaded } = await load(dir);
    expect(info.dtype).toBe('quantized');
    expect(loaded).toContain(`${join(dir, 'onnx/model_quantized.onnx')} (dtype quantized: the default on CPU where int8 weights exist)`);
  });

  it('gives way to an explicit dtype', async () => {
    const { info, loaded } = await load(dir, 'fp32');
    expect(info.dtype).toBe('fp32');
    expect(loaded).toContain(`${join(dir, 'onnx/model.onnx')} (dtype fp32: QWEN3GUARD_DTYPE)`);
  });

  it('is fp32 where the model has no int8 file', async () => {
    const copy = linkExport(set, int8);
    try {
      for (const file of int8.files) unlinkSync(join(copy, file));
      const { info, loaded } = await load(copy);
      expect(info.dtype).toBe('fp32');
      expect(loaded).toContain('(dtype fp32: the default on CPU: the model has no int8 file)');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
