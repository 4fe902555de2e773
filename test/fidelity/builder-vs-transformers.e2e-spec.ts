/**
 * The project's TypeScript Qwen3 graph builder (src/synthetic-model/qwen3-onnx-graph.ts), fed the reference
 * checkpoint's own weights from its safetensors file, must reproduce transformers' outputs on that
 * checkpoint: the builder is shown to compute Qwen3, not merely to agree with itself. Every reference set
 * runs: the committed one, and QWEN3GUARD_REFERENCE_DIR's when it names one (make_reference.py keeps the
 * checkpoint in its hf/ folder). The set's own chat template renders the conversations, whatever the
 * project's synthetic template has since become.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSyntheticModelDirectory } from '../../src/synthetic-model/model-directory-writer';
import { Qwen3Config } from '../../src/synthetic-model/qwen3-config';
import { OnnxIoConvention, OnnxWeightDtype } from '../../src/synthetic-model/qwen3-onnx-graph';
import { qwen3TensorSpecs } from '../../src/synthetic-model/qwen3-weight-layout';
import { SafetensorsWeights } from '../../src/synthetic-model/safetensors-weights';
import {
  compareLogits,
  floatTolerance,
  greedyContinuation,
  loadReferenceSet,
  OpenedModel,
  openModel,
  promptLogits,
  ReferenceSet,
  referenceRoots,
  report,
  stepLogitsMaxDiff,
} from './support/reference-set';

jest.setTimeout(300_000);

const sets = referenceRoots().map(loadReferenceSet);

/**
 * The relative tolerance the set's float exports of this precision are held to (largest |logit diff| over the
 * largest |logit|; make_reference.py RELATIVE_TOLERANCES). fp16 here: weights (exact in the tiny set), KV cache
 * and logits stored as float16, arithmetic in float32.
 */
function relativeTolerance(set: ReferenceSet, dtype: OnnxWeightDtype): number {
  const entry = set.manifest.exports.find((candidate) => candidate.precision === dtype && candidate.relative_tolerance !== undefined);
  if (!entry) throw new Error(`${set.root}: no ${dtype} export in the manifest to take the tolerance from`);
  return entry.relative_tolerance!;
}

/** The template the set's checkpoint was rendered with by transformers (hf/chat_template.jinja or tokenizer_config.json). */
function checkpointTemplate(set: ReferenceSet): string {
  const dir = join(set.root, set.manifest.checkpoint!.dir);
  if (existsSync(join(dir, 'chat_template.jinja'))) return readFileSync(join(dir, 'chat_template.jinja'), 'utf8');
  return (JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template: string }).chat_template;
}

/** The checkpoint's config.json, as the builder's Qwen3Config (same field names). */
function checkpointConfig(set: ReferenceSet): Qwen3Config {
  const hf = JSON.parse(readFileSync(join(set.root, set.manifest.checkpoint!.dir, 'config.json'), 'utf8'));
  return {
    model_type: 'qwen3',
    architectures: hf.architectures,
    vocab_size: hf.vocab_size,
    hidden_size: hf.hidden_size,
    intermediate_size: hf.intermediate_size,
    num_hidden_layers: hf.num_hidden_layers,
    num_attention_heads: hf.num_attention_heads,
    num_key_value_heads: hf.num_key_value_heads,
    head_dim: hf.head_dim,
    rope_theta: hf.rope_theta,
    rms_norm_eps: hf.rms_norm_eps,
    tie_word_embeddings: hf.tie_word_embeddings,
    max_position_embeddings: hf.max_position_embeddings,
    hidden_act: hf.hidden_act,
    attention_bias: hf.attention_bias,
    bos_token_id: hf.bos_token_id,
    eos_token_id: hf.eos_token_id,
    torch_dtype: 'float32',
  };
}

describe.each(sets.map((set) => [set.manifest.model, set] as const))(
  'TypeScript Qwen3 builder on reference set %s (safetensors) vs transformers',
  (_model, set: ReferenceSet) => {
    if (!set.manifest.checkpoint) {
      it('has the checkpoint the builder reads (hf/, kept by make_reference.py)', () => {
        expect(set.manifest.checkpoint).toBeDefined();
      });
      return;
    }
    const checkpoint = join(set.root, set.manifest.checkpoint.safetensors);
    const config = checkpointConfig(set);
    const chatTemplate = checkpointTemplate(set);
    const weights = SafetensorsWeights.open(checkpoint);
    const measured: Array<Record<string, string | number>> = [];
    afterAll(() => {
      weights.close();
      report(`TypeScript builder vs transformers (${set.manifest.model}), max abs logit diff`, measured);
    });

    it('reads exactly the tensors a Qwen3 checkpoint has, in the dtype the checkpoint was stored in', () => {
      expect(config.hidden_act).toBe('silu');
      expect(config.attention_bias).toBe(false);
      const expected = qwen3TensorSpecs(config).map((spec): [string, number[]] => [spec.name, spec.shape]);
      const stored = [...weights.tensors.values()].map((tensor): [string, number[]] => [tensor.name, tensor.shape]);
      expect(new Map(stored)).toEqual(new Map(expected));
      const storedAs = ({ F16: 'F16', float16: 'F16', bfloat16: 'BF16', float32: 'F32' } as Record<string, string>)[set.manifest.checkpoint!.stored_dtype];
      expect(new Set([...weights.tensors.values()].map((tensor) => tensor.dtype))).toEqual(new Set([storedAs]));
    });

    describe.each<[OnnxWeightDtype, OnnxIoConvention]>([
      ['fp32', 'optimum'],
      ['fp32', 'genai'],
      ['fp16', 'optimum'],
    ])('built as %s with %s I/O', (dtype, io) => {
      let dir: string;
      let model: OpenedModel;
      const relative = relativeTolerance(set, dtype);
      const row: Record<string, string | number> = { graph: `builder ${dtype}/${io}`, tolerance: `${relative} x max|logit|` };

      beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), `builder-reference-${dtype}-${io}-`));
        await writeSyntheticModelDirectory(dir, { config, weights, variants: [{ dtype, io }], chatTemplate });
        model = await openModel(dir, dtype);
        measured.push(row);
      });
      afterAll(async () => {
        await model?.session.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      });

      it('renders and tokenizes like transformers (the same template and tokenizer)', () => {
        for (const conversation of set.references.conversations) {
          expect(model.encoder.encode(conversation.messages)).toEqual(conversation.input_ids);
        }
      });

      it("matches transformers' logits at the last prompt position and at every greedy step", async () => {
        let prompt = 0;
        let steps = 0;
        for (const conversation of set.references.conversations) {
          const tolerance = floatTolerance(relative, conversation);
          const { row: logits, vocab } = await promptLogits(model, conversation.input_ids);
          const comparison = compareLogits(logits, vocab, conversation.prompt_logits);
          expect([conversation.id, comparison.maxAbsDiff < tolerance]).toEqual([conversation.id, true]);
          expect(comparison.sumDiff).toBeLessThan(tolerance * vocab);
          expect(comparison.l2Diff).toBeLessThan(tolerance * Math.sqrt(vocab));
          prompt = Math.max(prompt, comparison.maxAbsDiff);
          const stepDiff = await stepLogitsMaxDiff(model, conversation);
          expect([conversation.id, stepDiff < tolerance]).toEqual([conversation.id, true]);
          steps = Math.max(steps, stepDiff);
        }
        row.prompt_logits = prompt;
        row.step_logits = steps;
      });

      if (dtype === 'fp32') {
        it("decodes greedily to transformers' continuation, token for token", async () => {
          for (const conversation of set.references.conversations) {
            const tokens = await greedyContinuation(model, conversation.input_ids, conversation.continuation.length);
            expect([conversation.id, tokens]).toEqual([conversation.id, conversation.continuation]);
          }
        });
      }
    });
  },
);
