/**
 * The builder's tensor layout (qwen3-weight-layout.ts) and its `qwen3guard-gen-0.6b` preset against the
 * shapes transformers gives Qwen3Guard-Gen's published configurations (built on the meta device by
 * tools/reference-models/make_reference.py, no weights materialised).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getModelPreset } from '../../src/synthetic-model/model-presets';
import { Qwen3Config } from '../../src/synthetic-model/qwen3-config';
import { countQwen3Parameters, qwen3TensorSpecs } from '../../src/synthetic-model/qwen3-weight-layout';
import { REPO_ROOT } from './support/reference-set';

interface PublishedModel {
  config: Record<string, unknown>;
  num_parameters: number;
  parameters: Array<{ name: string; shape: number[] }>;
}

const shapes = JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/reference-models/qwen3-shapes.json'), 'utf8')) as {
  models: Record<string, PublishedModel>;
};

const SIZE_FIELDS = [
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'head_dim',
  'tie_word_embeddings',
  'rope_theta',
  'rms_norm_eps',
  'max_position_embeddings',
] as const;

function asMap(specs: Array<{ name: string; shape: number[] }>): Map<string, number[]> {
  return new Map(specs.map((spec) => [spec.name, spec.shape]));
}

describe('Qwen3Guard-Gen shapes: the builder vs transformers', () => {
  it("the qwen3guard-gen-0.6b preset has Qwen3-0.6B's configuration, tensors, shapes and parameter count", () => {
    const published = shapes.models['Qwen/Qwen3Guard-Gen-0.6B'];
    const preset = getModelPreset('qwen3guard-gen-0.6b');
    for (const field of SIZE_FIELDS) expect([field, preset[field]]).toEqual([field, published.config[field]]);
    expect(asMap(qwen3TensorSpecs(preset))).toEqual(asMap(published.parameters));
    expect(countQwen3Parameters(preset)).toBe(published.num_parameters);
    expect(published.num_parameters).toBe(596_049_920);
  });

  it.each(Object.keys(shapes.models))("the weight layout gives %s transformers' tensors and count", (id) => {
    const published = shapes.models[id];
    const config = { ...getModelPreset('qwen3guard-gen-0.6b'), ...published.config } as Qwen3Config;
    expect(asMap(qwen3TensorSpecs(config))).toEqual(asMap(published.parameters));
    expect(countQwen3Parameters(config)).toBe(published.num_parameters);
  });
});
