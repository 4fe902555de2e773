import { MODEL_PRESET_NAMES, getModelPreset } from './model-presets';
import { buildQwen3OnnxModel } from './qwen3-onnx-graph';
import { countQwen3Parameters, elementCount } from './qwen3-weight-layout';
import { createSeededWeights } from './seeded-weights';

describe('model presets', () => {
  it('(g) qwen3guard-gen-0.6b has Qwen3-0.6B parameter count, 596,049,920', () => {
    const config = getModelPreset('qwen3guard-gen-0.6b');
    // Worked out by hand: per layer q 1024x2048, k and v 1024x1024, o 2048x1024, gate/up/down 1024x3072,
    // two 1024 norms and two 128 q/k norms; plus the tied embedding 151936x1024 and the final norm.
    const perLayer = 1024 * 2048 + 2 * 1024 * 1024 + 2048 * 1024 + 3 * 1024 * 3072 + 2 * 1024 + 2 * 128;
    expect(perLayer).toBe(15_730_944);
    expect(28 * perLayer + 151936 * 1024 + 1024).toBe(596_049_920);
    expect(countQwen3Parameters(config)).toBe(596_049_920);
  });

  it('(g) the built 0.6B graph holds exactly those parameters (no untied head, no stray copies)', () => {
    // Weights are deferred, so building the graph costs nothing; only its initializer shapes are read.
    const built = buildQwen3OnnxModel(getModelPreset('qwen3guard-gen-0.6b'), createSeededWeights(), { dtype: 'fp32', io: 'optimum' });
    expect(built.weights.reduce((total, weight) => total + elementCount(weight.dims), 0)).toBe(596_049_920);
    expect(built.weights.reduce((total, weight) => total + weight.byteLength, 0)).toBe(4 * 596_049_920);
    expect(built.weights.some((weight) => weight.name.startsWith('lm_head'))).toBe(false);
  });

  it('an untied config adds lm_head.weight', () => {
    const config = { ...getModelPreset('tiny'), tie_word_embeddings: false };
    expect(countQwen3Parameters(config) - countQwen3Parameters(getModelPreset('tiny'))).toBe(151936 * 64);
  });

  it('describes the tiny and 0.6B shapes with the real vocabulary and special tokens', () => {
    expect(MODEL_PRESET_NAMES).toEqual(['tiny', 'qwen3guard-gen-0.6b']);
    const tiny = getModelPreset('tiny');
    expect(tiny).toMatchObject({
      vocab_size: 151936,
      hidden_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 32,
      intermediate_size: 128,
      rope_theta: 1e6,
      rms_norm_eps: 1e-6,
      tie_word_embeddings: true,
    });
    const big = getModelPreset('qwen3guard-gen-0.6b');
    expect(big).toMatchObject({ max_position_embeddings: 40960, bos_token_id: 151643, eos_token_id: 151645 });
  });

  it('hands out copies', () => {
    const preset = getModelPreset('tiny');
    preset.hidden_size = 1;
    preset.architectures.push('x');
    expect(getModelPreset('tiny').hidden_size).toBe(64);
    expect(getModelPreset('tiny').architectures).toEqual(['Qwen3ForCausalLM']);
  });
});
