import { Qwen3Config } from './qwen3-config';

/** Qwen3 special tokens; the synthetic models share the real tokenizer, so the ids are the real ones. */
export const QWEN3_BOS_TOKEN_ID = 151643; // <|endoftext|>
export const QWEN3_EOS_TOKEN_ID = 151645; // <|im_end|>
export const QWEN3_VOCAB_SIZE = 151936;

export const MODEL_PRESET_NAMES = ['tiny', 'qwen3guard-gen-0.6b'] as const;
export type ModelPresetName = (typeof MODEL_PRESET_NAMES)[number];

/** Fields every Qwen3 config here shares; presets differ only in size. */
export const QWEN3_COMMON = {
  model_type: 'qwen3',
  architectures: ['Qwen3ForCausalLM'],
  vocab_size: QWEN3_VOCAB_SIZE,
  rope_theta: 1_000_000,
  rms_norm_eps: 1e-6,
  tie_word_embeddings: true,
  max_position_embeddings: 40960,
  hidden_act: 'silu',
  attention_bias: false,
  bos_token_id: QWEN3_BOS_TOKEN_ID,
  eos_token_id: QWEN3_EOS_TOKEN_ID,
  torch_dtype: 'float32',
} as const satisfies Partial<Qwen3Config>;

const PRESETS: Record<ModelPresetName, Qwen3Config> = {
  // Small enough to build and run in unit tests, yet with the real vocabulary so the real tokenizer
  // works, GQA (2 query heads per KV head) and head_dim != hidden/heads like the real models.
  tiny: {
    ...QWEN3_COMMON,
    architectures: [...QWEN3_COMMON.architectures],
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 32,
  },
  // Qwen3Guard-Gen-0.6B's (= Qwen3-0.6B's) shapes: 596,049,920 parameters with tied embeddings.
  'qwen3guard-gen-0.6b': {
    ...QWEN3_COMMON,
    architectures: [...QWEN3_COMMON.architectures],
    hidden_size: 1024,
    intermediate_size: 3072,
    num_hidden_layers: 28,
    num_attention_heads: 16,
    num_key_value_heads: 8,
    head_dim: 128,
  },
};

export function isModelPresetName(name: string): name is ModelPresetName {
  return (MODEL_PRESET_NAMES as readonly string[]).includes(name);
}

/** A fresh copy, so callers may adjust fields without changing the preset. */
export function getModelPreset(name: ModelPresetName): Qwen3Config {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`unknown model preset "${name}" (known: ${MODEL_PRESET_NAMES.join(', ')})`);
  return { ...preset, architectures: [...preset.architectures] };
}
