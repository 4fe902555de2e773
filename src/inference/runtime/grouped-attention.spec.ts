import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { getModelPreset } from '../../synthetic-model/model-presets';
import { writeSyntheticModelDirectory } from '../../synthetic-model/model-directory-writer';
import { createSeededWeights } from '../../synthetic-model/seeded-weights';
import { DecoderConfig } from '../model-format/decoder-config';
import { readModelDirectory } from '../model-format/model-directory';
import { DecoderSession, ForwardStep } from './decoder-session';
import { AttentionHeads, groupQueryHeads } from './grouped-attention';
import { LogitsRow, positionLogits } from './logits';
import { readRewritten } from './model-rewrites';
import { leftPaddedPromptAndStep } from '../../../test/support/left-padded-batch';

jest.setTimeout(120_000);

/** transformers' export through optimum (tools/reference-models/make_reference.py): 4 query heads over 2 KV heads. */
const OPTIMUM_EXPORT = join(__dirname, '../../../test/fixtures/reference-models/qwen3-tiny/optimum');
const CONFIG = JSON.parse(readFileSync(join(OPTIMUM_EXPORT, 'config.json'), 'utf8')) as DecoderConfig & { vocab_size: number };
const HEADS: AttentionHeads = { queryHeads: CONFIG.num_attention_heads, keyValueHeads: CONFIG.num_key_value_heads, headDim: CONFIG.head_dim! };
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function decodedFile(file: string): onnx.ModelProto {
  return onnx.ModelProto.decode(readFileSync(join(OPTIMUM_EXPORT, 'onnx', file)));
}

function opTypes(model: onnx.IModelProto): string[] {
  return model.graph!.node!.map((node) => node.opType!);
}

function largestDifference(a: LogitsRow[], b: LogitsRow[]): number {
  let largest = 0;
  for (const [at, row] of a.entries()) for (let id = 0; id < CONFIG.vocab_size; id++) largest = Math.max(largest, Math.abs(row(id) - b[at](id)));
  return largest;
}

/** The optimum int8 export as the engine opens it on CPU: logits_to_keep, per-token scales and grouped attention. */
function openInt8WithEveryRewrite(): Promise<DecoderSession> {
  return DecoderSession.open({
    onnxPath: join(OPTIMUM_EXPORT, 'onnx/model_quantized.onnx'),
    config: CONFIG,
    provider: 'cpu',
    intraOpThreads: 1,
    logger: silent,
    logitsToKeep: true,
    perTokenInt8: true,
    groupedAttention: true,
  });
}

describe('groupQueryHeads on optimum exports', () => {
  it.each(['model.onnx', 'model_quantized.onnx'])('rewrites every layer of %s and leaves no repeated KV heads', (file) => {
    const model = decodedFile(file);
    expect(opTypes(model).filter((op) => op === 'Expand').length).toBeGreaterThanOrEqual(2 * CONFIG.num_hidden_layers);
    expect(groupQueryHeads(model, HEADS)).toEqual({ rewritten: CONFIG.num_hidden_layers });
    // repeat_kv's Expand is gone with its shape arithmetic; the causal mask's own Expand stays.
    expect(opTypes(model).filter((op) => op === 'Expand')).toHaveLength(
      opTypes(decodedFile(file)).filter((op) => op === 'Expand').length - 2 * CONFIG.num_hidden_layers,
    );
    expect(groupQueryHeads(model, HEADS)).toEqual({ skipped: 'it is already rewritten' });
  });

  // Logits against the file as exported, batched and left-padded, prompt and cached step: the same float32 dot
  // products, blocked differently by the kernels (the int8 file's products are exact, its attention float32).
  it.each<[string, number]>([
    ['model.onnx', 1e-5],
    ['model_quantized.onnx', 1e-5],
  ])('gives %s the logits of the export as it is (within %s)', async (file, tolerance) => {
    const open = (groupedAttention: boolean) =>
      DecoderSession.open({
        onnxPath: join(OPTIMUM_EXPORT, 'onnx', file),
        config: CONFIG,
        provider: 'cpu',
        intraOpThreads: 1,
        logger: silent,
        groupedAttention,
      });
    const [grouped, asExported] = await Promise.all([open(true), open(false)]);
    try {
      expect([grouped.applied.groupedAttentionLayers, asExported.applied.groupedAttentionLayers]).toEqual([CONFIG.num_hidden_layers, 0]);
      expect(largestDifference(await leftPaddedPromptAndStep(grouped), await leftPaddedPromptAndStep(asExported))).toBeLessThanOrEqual(tolerance);
    } finally {
      await Promise.all([grouped.close(), asExported.close()]);
    }
  });

  // With one row of queries per head, a one-token pass would multiply one-row matrices, which onnxruntime rounds
  // another way than the same row among others; grouped, the two query heads of a KV head make two rows.
  it('gives an int8 token the same logits to the bit alone in its pass as followed by others', async () => {
    const session = await openInt8WithEveryRewrite();
    const tokens = (ids: bigint[], past: number): ForwardStep => ({
      batch: 1,
      sequenceLength: ids.length,
      inputIds: BigInt64Array.from(ids),
      attentionMask: new BigInt64Array(past + ids.length).fill(1n),
      positionIds: BigInt64Array.from(ids, (_, at) => BigInt(past + at)),
    });
    const firstOf = async (next: bigint[]) => {
      const prompt = await session.forward(tokens([9n, 14n, 3n, 27n, 5n, 11n, 40n], 0), session.emptyCache(1), { positions: 1 });
      const step = await session.forward(tokens(next, 7), prompt.cache, { positions: next.length });
      session.discard(step.cache);
      const logits = positionLogits(step.logits, 0, 0);
      return Array.from({ length: CONFIG.vocab_size }, (_, id) => logits(id));
    };
    try {
      expect(session.applied.groupedAttentionLayers).toBe(CONFIG.num_hidden_layers);
      const [alone, followed] = [await firstOf([21n]), await firstOf([21n, 6n, 30n])];
      expect(alone.filter((logit, id) => !Object.is(logit, followed[id]))).toEqual([]);
    } finally {
      await session.close();
    }
  });

  it('goes with the logits_to_keep rewrite, whose nodes come after the ones they feed', async () => {
    const session = await openInt8WithEveryRewrite();
    await session.close();
    expect([session.io.logitsToKeep, session.applied.perTokenQuantizers > 0, session.applied.groupedAttentionLayers]).toEqual([
      true,
      true,
      CONFIG.num_hidden_layers,
    ]);
  });

  it.each<[string, (model: onnx.ModelProto) => void, string]>([
    [
      'a second reader of the transposed keys',
      (model) => {
        const transpose = model.graph!.node!.find((node) => node.opType === 'Transpose' && node.name!.endsWith('self_attn/Transpose_3'))!;
        model.graph!.node!.push({ opType: 'Identity', name: 'spy', input: [transpose.output![0]], output: ['spy'] });
      },
      'transposed',
    ],
    [
      'values that are not repeated',
      (model) => {
        const context = model.graph!.node!.find((node) => node.name!.endsWith('layers.1/self_attn/MatMul_1'))!;
        context.input![1] = 'present.1.value';
      },
      'values are not the repeated KV heads',
    ],
  ])('leaves the whole model as exported with %s', (_, change, reason) => {
    const model = decodedFile('model.onnx');
    change(model);
    const before = Buffer.from(onnx.ModelProto.encode(model).finish());
    expect(groupQueryHeads(model, HEADS)).toEqual({ skipped: expect.stringContaining(reason) });
    expect(Buffer.from(onnx.ModelProto.encode(model).finish()).equals(before)).toBe(true);
  });

  it('leaves float16 attention as exported: grouped, its products would round otherwise', () => {
    const model = decodedFile('model_fp16.onnx');
    expect(groupQueryHeads(model, HEADS)).toEqual({ skipped: expect.stringContaining('its attention products are float16') });
  });

  it('skips a model whose query heads each have their own KV head', () => {
    expect(groupQueryHeads(decodedFile('model.onnx'), { ...HEADS, keyValueHeads: HEADS.queryHeads })).toEqual({
      skipped: 'every query head has its own KV head',
    });
  });
});

describe('groupQueryHeads on the synthetic builder', () => {
  let workDir: string;
  beforeAll(() => (workDir = mkdtempSync(join(tmpdir(), 'grouped-attention-spec-'))));
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('finds its attention already reading each KV head once, and says so in a log line', async () => {
    const modelDir = join(workDir, 'tiny');
    await writeSyntheticModelDirectory(modelDir, {
      config: getModelPreset('tiny'),
      weights: createSeededWeights({ seed: 2 }),
      variants: [{ dtype: 'fp32', io: 'optimum' }],
    });
    const { onnxPath, config } = readModelDirectory(modelDir, 'fp32');
    const lines: string[] = [];
    const warnings: string[] = [];
    const logger = { ...silent, log: (line: string) => lines.push(line), warn: (line: string) => warnings.push(line) };
    const session = await DecoderSession.open({ onnxPath, config, provider: 'cpu', intraOpThreads: 1, logger, groupedAttention: true });
    await session.close();
    expect(session.applied.groupedAttentionLayers).toBe(0);
    expect(warnings).toEqual([]);
    expect(lines).toEqual([expect.stringContaining('attention runs as exported')]);
    const { skipped } = readRewritten(onnxPath, {
      logitsToKeep: false,
      perTokenInt8: false,
      groupedAttention: { queryHeads: config.num_attention_heads, keyValueHeads: config.num_key_value_heads, headDim: config.head_dim! },
    });
    expect(skipped.groupedAttention).toContain('its scores are not a MatMul plus a mask');
  });
});
