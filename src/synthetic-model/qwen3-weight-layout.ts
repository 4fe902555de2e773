import { Qwen3Config } from './qwen3-config';

/**
 * The Hugging Face tensor names and shapes of a Qwen3ForCausalLM checkpoint. One list drives the graph
 * builder, the parameter count and the tests' reference forward pass, so they cannot disagree on it.
 */
export interface Qwen3TensorSpec {
  name: string;
  /** torch layout: `[out, in]` for Linear weights, `[vocab, hidden]` for the embedding. */
  shape: number[];
}

/** Names of one decoder layer's tensors. */
export function qwen3LayerTensorNames(layer: number) {
  const prefix = `model.layers.${layer}`;
  return {
    inputNorm: `${prefix}.input_layernorm.weight`,
    qProj: `${prefix}.self_attn.q_proj.weight`,
    kProj: `${prefix}.self_attn.k_proj.weight`,
    vProj: `${prefix}.self_attn.v_proj.weight`,
    oProj: `${prefix}.self_attn.o_proj.weight`,
    qNorm: `${prefix}.self_attn.q_norm.weight`,
    kNorm: `${prefix}.self_attn.k_norm.weight`,
    postAttentionNorm: `${prefix}.post_attention_layernorm.weight`,
    gateProj: `${prefix}.mlp.gate_proj.weight`,
    upProj: `${prefix}.mlp.up_proj.weight`,
    downProj: `${prefix}.mlp.down_proj.weight`,
  };
}

export const QWEN3_EMBEDDING = 'model.embed_tokens.weight';
export const QWEN3_FINAL_NORM = 'model.norm.weight';
export const QWEN3_LM_HEAD = 'lm_head.weight';

export function qwen3LayerTensorSpecs(config: Qwen3Config, layer: number): Qwen3TensorSpec[] {
  const names = qwen3LayerTensorNames(layer);
  const hidden = config.hidden_size;
  const qWidth = config.num_attention_heads * config.head_dim;
  const kvWidth = config.num_key_value_heads * config.head_dim;
  const inter = config.intermediate_size;
  return [
    { name: names.inputNorm, shape: [hidden] },
    { name: names.qProj, shape: [qWidth, hidden] },
    { name: names.kProj, shape: [kvWidth, hidden] },
    { name: names.vProj, shape: [kvWidth, hidden] },
    { name: names.oProj, shape: [hidden, qWidth] },
    { name: names.qNorm, shape: [config.head_dim] },
    { name: names.kNorm, shape: [config.head_dim] },
    { name: names.postAttentionNorm, shape: [hidden] },
    { name: names.gateProj, shape: [inter, hidden] },
    { name: names.upProj, shape: [inter, hidden] },
    { name: names.downProj, shape: [hidden, inter] },
  ];
}

/** Every tensor of the checkpoint; `lm_head.weight` only when it is not tied to the embedding. */
export function qwen3TensorSpecs(config: Qwen3Config): Qwen3TensorSpec[] {
  const specs: Qwen3TensorSpec[] = [{ name: QWEN3_EMBEDDING, shape: [config.vocab_size, config.hidden_size] }];
  for (let layer = 0; layer < config.num_hidden_layers; layer++) specs.push(...qwen3LayerTensorSpecs(config, layer));
  specs.push({ name: QWEN3_FINAL_NORM, shape: [config.hidden_size] });
  if (!config.tie_word_embeddings) specs.push({ name: QWEN3_LM_HEAD, shape: [config.vocab_size, config.hidden_size] });
  return specs;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, size) => product * size, 1);
}

/** Parameter count as `sum(p.numel() for p in model.parameters())` reports it (tied weights once). */
export function countQwen3Parameters(config: Qwen3Config): number {
  return qwen3TensorSpecs(config).reduce((total, spec) => total + elementCount(spec.shape), 0);
}
