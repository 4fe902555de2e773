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
