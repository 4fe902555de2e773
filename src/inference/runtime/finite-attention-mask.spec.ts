import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { getModelPreset } from '../../synthetic-model/model-presets';
import { writeSyntheticModelDirectory } from '../../synthetic-model/model-directory-writer';
import { createSeededWeights } from '../../synthetic-model/seeded-weights';
import { DecoderConfig } from '../model-format/decoder-config';
import { readModelDirectory } from '../model-format/model-directory';
import { DecoderSession } from './decoder-session';
import { makeAttentionMaskFinite } from './finite-attention-mask';
import { constantTensors, float32Values } from './graph-index';
import { positionLogits } from './logits';
import { ort } from './onnxruntime';
import { quantizeActivationsPerToken } from './per-token-int8';
import { LEFT_PADDED_PROMPT, leftPaddedPromptAndStep } from '../../../test/support/left-padded-batch';

jest.setTimeout(120_000);

/** transformers' export through optimum (tools/reference-models/make_reference.py): -inf masks, IsNaN guards. */
const OPTIMUM_EXPORT = join(__dirname, '../../../test/fixtures/reference-models/qwen3-tiny/optimum');
const CONFIG = JSON.parse(readFileSync(join(OPTIMUM_EXPORT, 'config.json'), 'utf8')) as DecoderConfig & { vocab_size: number };
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function decodedFile(file: string): onnx.ModelProto {
  return onnx.ModelProto.decode(readFileSync(join(OPTIMUM_EXPORT, 'onnx', file)));
}

function count(model: onnx.IModelProto, opType: string): number {
  return model.graph!.node!.filter((node) => node.opType === opType).length;
}

/** Every logit of both rows' last position, prompt pass then cached step. */
async function promptAndStepLogits(session: DecoderSession): Promise<number[]> {
  const rows = await leftPaddedPromptAndStep(session);
  return rows.flatMap((logits) => Array.from({ length: CONFIG.vocab_size }, (_, id) => logits(id)));
}

describe('makeAttentionMaskFinite on optimum exports', () => {
  it.each(['model.onnx', 'model_quantized.onnx', 'model_fp16.onnx'])('drops every NaN guard of %s and masks with the lowest float', (file) => {
    const model = decodedFile(file);
    if (file === 'model_quantized.onnx') quantizeActivationsPerToken(model);
    expect(count(model, 'IsNaN')).toBe(CONFIG.num_hidden_layers);
    const wheres = count(model, 'Where');
    expect(makeAttentionMaskFinite(model)).toEqual({ rewritten: CONFIG.num_hidden_layers });
    expect([count(model, 'IsNaN'), count(model, 'Where')]).toEqual([0, wheres - CONFIG.num_hidden_layers]);
    const lowest = model.graph!.initializer!.find((tensor) => tensor.name === 'finite_attention_mask/lowest');
    expect(float32Values(lowest)).toEqual([-3.4028234663852886e38]);
    expect(model.graph!.node!.filter((node) => node.input!.includes(lowest!.name!))).toHaveLength(CONFIG.num_hidden_layers);
    expect(makeAttentionMaskFinite(model)).toEqual({ skipped: 'it is already rewritten' });
  });

  // A masked key gets weight 0 either way, so every row that sees a key computes the same bits; the padded row's
  // cached step reads its pads' keys and values, which must not be NaN.
  // int8 with per-token activation scales (the engine's CPU default): a row's numbers are its own.
  it.each(['model.onnx', 'model_quantized.onnx', 'model_fp16.onnx'])(
    'leaves every logit of %s the same to the bit, left padding and cached step included',
    async (file) => {
      const open = (finiteAttentionMask: boolean) =>
        DecoderSession.open({
          onnxPath: join(OPTIMUM_EXPORT, 'onnx', file),
          config: CONFIG,
          provider: 'cpu',
          intraOpThreads: 1,
          logger: silent,
          perTokenInt8: true,
          finiteAttentionMask,
        });
      const [finite, asExported] = await Promise.all([open(true), open(false)]);
      try {
        expect([finite.applied.finiteMaskLayers, asExported.applied.finiteMaskLayers]).toEqual([CONFIG.num_hidden_layers, 0]);
        const [ours, theirs] = [await promptAndStepLogits(finite), await promptAndStepLogits(asExported)];
        expect(theirs.some(Number.isNaN)).toBe(false);
        expect(ours.filter((logit, at) => !Object.is(logit, theirs[at]))).toEqual([]);
      } finally {
        await Promise.all([finite.close(), asExported.close()]);
      }
    },
  );

  // The control: the guard is what keeps -inf masks from NaN, so dropping it alone poisons the padded row.
  it('is needed whole: without the guard, a -inf mask turns the padded row to NaN', async () => {
    const model = decodedFile('model.onnx');
    makeAttentionMaskFinite(model);
    model.graph!.initializer!.find((tensor) => tensor.name === 'finite_attention_mask/lowest')!.floatData = [-Infinity];
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { intraOpNumThreads: 1 });
    try {
      const emptyCache = Object.fromEntries(
        session.inputNames
          .filter((name) => name.startsWith('past_key_values.'))
          .map((name) => [name, new ort.Tensor('float32', new Float32Array(0), [2, CONFIG.num_key_value_heads, 0, CONFIG.head_dim!])]),
      );
      const { logits } = await session.run({
        ...emptyCache,
        input_ids: new ort.Tensor('int64', LEFT_PADDED_PROMPT.inputIds, [2, 7]),
        attention_mask: new ort.Tensor('int64', LEFT_PADDED_PROMPT.attentionMask, [2, 7]),
        position_ids: new ort.Tensor('int64', LEFT_PADDED_PROMPT.positionIds!, [2, 7]),
      });
      const lastIsNaN = (row: number) => Number.isNaN(positionLogits(logits, row, 6)(0));
      expect([lastIsNaN(0), lastIsNaN(1)]).toEqual([false, true]);
    } finally {
      await session.release();
    }
  });

  it('leaves int8 activations quantized per pass as exported, saying why', async () => {
    const lines: string[] = [];
    const session = await DecoderSession.open({
      onnxPath: join(OPTIMUM_EXPORT, 'onnx/model_quantized.onnx'),
      config: CONFIG,
      provider: 'cpu',
      intraOpThreads: 1,
      logger: { ...silent, log: (line: string) => lines.push(line) },
      finiteAttentionMask: true,
    });
    await session.close();
    expect(session.applied.finiteMaskLayers).toBe(0);
    expect(lines).toEqual([expect.stringContaining('its int8 activations are quantized per pass')]);
  });

  it('leaves the builder’s files alone: their mask is finite and their softmax unguarded', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'finite-attention-mask-spec-'));
    try {
      await writeSyntheticModelDirectory(workDir, {
        config: getModelPreset('tiny'),
        weights: createSeededWeights({ seed: 2 }),
        variants: [{ dtype: 'fp32', io: 'optimum' }],
      });
      const { onnxPath } = readModelDirectory(workDir, 'fp32');
      expect(makeAttentionMaskFinite(onnx.ModelProto.decode(readFileSync(onnxPath)))).toEqual({ rewritten: 0 });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  it('refuses a mask it does not know, so that no -inf is left beside a dropped guard', () => {
    const model = decodedFile('model.onnx');
    const constants = constantTensors(model.graph!);
    const mask = model.graph!.node!.find((node) => node.opType === 'Where' && float32Values(constants.get(node.input![2]))?.[0] === -Infinity)!;
    mask.input![2] = 'attention_bias';
    expect(makeAttentionMaskFinite(model)).toEqual({ skipped: expect.stringContaining('its mask is not a float32 Where(condition, 0, -inf)') });
  });
});
