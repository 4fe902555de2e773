/** The parts of a Hugging Face `config.json` the engine reads. */
export interface DecoderConfig {
  num_hidden_layers: number;
  num_key_value_heads: number;
  num_attention_heads: number;
  hidden_size: number;
  head_dim?: number;
  max_position_embeddings?: number;
  eos_token_id?: number | number[];
}

/** Qwen3 states head_dim; configs without it split the hidden size evenly over the attention heads. */
export function headDimOf(config: DecoderConfig): number {
  return config.head_dim ?? config.hidden_size / config.num_attention_heads;
}
