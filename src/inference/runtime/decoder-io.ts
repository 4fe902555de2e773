import type { InferenceSession } from 'onnxruntime-node';
import { EngineError, EngineErrorCode } from '../engine-error';
import { LOGITS_TO_KEEP } from './logits-to-keep';
import { DecoderConfig, headDimOf } from '../model-format/decoder-config';

export type KvDtype = 'float32' | 'float16';

export interface KvLayerNames {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

/**
 * The decoder's I/O as the session itself declares it. Two conventions exist in real exports:
 * optimum / transformers.js (with `position_ids`) and onnxruntime-genai (without; positions come from
 * `attention_mask` inside the graph). Nothing here is assumed from the file name.
 */
export interface DecoderIo {
  hasPositionIds: boolean;
  layers: KvLayerNames[];
  kvDtype: KvDtype;
  kvHeads: number;
  headDim: number;
  logitsDtype: KvDtype;
  /** The model takes `logits_to_keep` (added at load, logits-to-keep.ts): logits for each row's last k positions only. */
  logitsToKeep: boolean;
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;

export function discoverDecoderIo(session: Pick<InferenceSession, 'inputNames' | 'inputMetadata' | 'outputMetadata'>, config: DecoderConfig): DecoderIo {
  const inputs = new Map(session.inputMetadata.map((meta) => [meta.name, meta]));
  const outputs = new Map(session.outputMetadata.map((meta) => [meta.name, meta]));
  for (const required of ['input_ids', 'attention_mask']) {
    if (!inputs.has(required)) throw invalid(`the model has no \`${required}\` input`);
  }
  const logits = outputs.get('logits');
  if (!logits?.isTensor) throw invalid('the model has no `logits` output');

  const layers = pastLayerIndices(session.inputNames).map((index) => kvNames(index, outputs));
  if (layers.length === 0) throw invalid('the model has no past_key_values inputs (export it with past, "text-generation-with-past")');

  const firstPast = inputs.get(layers[0].pastKey)!;
  if (!firstPast.isTensor) throw invalid(`${layers[0].pastKey} is not a tensor`);
  const [, heads, , dim] = firstPast.shape;
  return {
    hasPositionIds: inputs.has('position_ids'),
    layers,
    kvDtype: floatType(firstPast.type, layers[0].pastKey),
    kvHeads: typeof heads === 'number' ? heads : config.num_key_value_heads,
    headDim: typeof dim === 'number' ? dim : headDimOf(config),
    logitsDtype: floatType(logits.type, 'logits'),
    logitsToKeep: inputs.has(LOGITS_TO_KEEP),
  };
}

function pastLayerIndices(inputNames: readonly string[]): number[] {
  const indices = new Set<number>();
  for (const name of inputNames) {
    const match = PAST.exec(name);
    if (match) indices.add(Number(match[1]));
  }
  const sorted = [...indices].sort((a, b) => a - b);
  sorted.forEach((layer, position) => {
    if (layer !== position) throw invalid(`past_key_values layers are not numbered 0..${sorted.length - 1}`);
  });
  return sorted;
}

function kvNames(layer: number, outputs: Map<string, InferenceSession.ValueMetadata>): KvLayerNames {
  const names = {
    pastKey: `past_key_values.${layer}.key`,
    pastValue: `past_key_values.${layer}.value`,
    presentKey: `present.${layer}.key`,
    presentValue: `present.${layer}.value`,
  };
  for (const output of [names.presentKey, names.presentValue]) {
    if (!outputs.has(output)) throw invalid(`the model has no \`${output}\` output`);
  }
  return names;
}

function floatType(type: string, name: string): KvDtype {
  if (type === 'float32' || type === 'float16') return type;
  throw invalid(`${name} has type ${type}; only float32 and float16 are supported`);
}

function invalid(message: string): EngineError {
  return new EngineError(EngineErrorCode.ModelInvalid, message);
}
