import { EngineError, EngineErrorCode } from '../engine-error';
import type { DecoderConfig } from './decoder-config';

/** The file onnxruntime-genai's model builder writes beside its model.onnx (it writes no config.json). */
export const GENAI_CONFIG_FILE = 'genai_config.json';

/**
 * The decoder numbers of an onnxruntime-genai `genai_config.json` (`model.decoder.*`, `model.context_length`,
 * `model.eos_token_id`) in config.json's field names, so that a folder the builder wrote loads unchanged.
 */
export function decoderConfigFromGenai(genai: unknown, path: string): DecoderConfig {
  const model = (genai as { model?: Record<string, unknown> } | null)?.model;
  const decoder = model?.decoder as Record<string, unknown> | undefined;
  const count = (field: string): number => {
    const value = decoder?.[field];
    if (!Number.isInteger(value) || (value as number) <= 0) {
      throw new EngineError(EngineErrorCode.ModelInvalid, `${path} has no model.decoder.${field}`);
    }
    return value as number;
  };
  const optional = (value: unknown): number | undefined => (Number.isInteger(value) && (value as number) > 0 ? (value as number) : undefined);
  const eos = model?.eos_token_id;
  return {
    num_hidden_layers: count('num_hidden_layers'),
    num_key_value_heads: count('num_key_value_heads'),
    num_attention_heads: count('num_attention_heads'),
    hidden_size: count('hidden_size'),
    head_dim: optional(decoder?.head_size),
    max_position_embeddings: optional(model?.context_length),
    eos_token_id: Number.isInteger(eos) || (Array.isArray(eos) && eos.every(Number.isInteger)) ? (eos as number | number[]) : undefined,
  };
}
