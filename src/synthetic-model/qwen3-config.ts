/**
 * A Qwen3 decoder configuration in Hugging Face `config.json` field names, so a config read from a real
 * model directory and one of ours are the same object.
 */
export interface Qwen3Config {
  model_type: 'qwen3';
  architectures: string[];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  rope_theta: number;
  rms_norm_eps: number;
  tie_word_embeddings: boolean;
  max_position_embeddings: number;
  hidden_act: 'silu';
  attention_bias: false;
  bos_token_id: number;
  eos_token_id: number;
  torch_dtype: 'float32' | 'float16' | 'bfloat16';
}

/**
 * Weights by Hugging Face tensor name (`model.layers.0.self_attn.q_proj.weight`, row-major `[out, in]`
 * like torch.nn.Linear). A getter rather than a map so large models can be produced tensor by tensor.
 */
export interface Qwen3WeightSource {
  get(name: string, shape: readonly number[]): Float32Array;
}
