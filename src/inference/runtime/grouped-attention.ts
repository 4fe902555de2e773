import { onnx } from 'onnx-proto';
import { GraphIndex, indexGraph, int64Values, intAttribute, onlyReader, withoutDeadNodes } from './graph-index';

/**
 * Grouped-query attention as transformers exports it (optimum's `model.onnx` and `model_quantized.onnx`)
 * repeats every KV head for each query head that reads it (`repeat_kv`: Unsqueeze(axis 2) → Expand → Reshape)
 * before both attention products, in every layer of every pass. For Qwen3-0.6B that is a copy of the whole
 * cache, twice its size, read again by a batched MatMul of one head each. This rewrite feeds the cache to the products as it is instead: the query heads that share a KV head
 * become one taller matrix,
 *
 *   q [b, heads, s, d] → [b, kv_heads, groups·s, d]   (the heads of a group are adjacent: repeat_kv's order)
 *   scores = q · Kᵀ [b, kv_heads, groups·s, total];   mask [b, 1, s, total] repeated groups times along s
 *   context = softmax(scores) · V [b, kv_heads, groups·s, d] → [b, heads, s, d]
 *
 * Every dot product is the one the export computes, in float32; only the kernels' blocking differs (logits
 * within 1e-5 of the file as exported). Pure ONNX operators, so any execution provider runs it. All layers or
 * none; float16 attention (the fp16 export) stays as exported.
 */

const PREFIX = 'grouped_attention';
const QUERY_SHAPE = `${PREFIX}/query_shape`;
const { INT64 } = onnx.TensorProto.DataType;

/** The model's head layout (config.json), which the export's dynamic shapes do not state. */
export interface AttentionHeads {
  queryHeads: number;
  keyValueHeads: number;
  headDim: number;
}

export type GroupedAttentionRewrite = { rewritten: number } | { skipped: string };

/** A node that reads repeat_kv's output, and the cache tensor it reads instead after the rewrite. */
interface RepeatedHeadsReader {
  reader: onnx.INodeProto;
  repeated: string;
  cache: string;
}

/** What one layer's attention reads and where the rewrite changes it. */
interface LayerAttention {
  scores: onnx.INodeProto;
  maskedScores: onnx.INodeProto;
  maskInput: number;
  keys: RepeatedHeadsReader;
  context: onnx.INodeProto;
  values: RepeatedHeadsReader;
}

export function groupQueryHeads(model: onnx.IModelProto, heads: AttentionHeads): GroupedAttentionRewrite {
  const graph = model.graph;
  if (!graph?.node) return { skipped: 'it has no graph' };
  if (graph.initializer?.some((tensor) => tensor.name === QUERY_SHAPE)) return { skipped: 'it is already rewritten' };
  const groups = heads.queryHeads / heads.keyValueHeads;
  if (!Number.isInteger(groups) || groups < 2) return { skipped: 'every query head has its own KV head' };
  const index = indexGraph(graph);
  const softmaxes = graph.node.filter((node) => node.opType === 'Softmax' && !node.domain);
  if (softmaxes.length === 0) return { skipped: 'its attention is not written out as MatMul and Softmax' };
  const layers: LayerAttention[] = [];
  for (const softmax of softmaxes) {
    const layer = matchLayer(softmax, index);
    if (typeof layer === 'string') return { skipped: `${softmax.name || softmax.output?.[0]}: ${layer}` };
    layers.push(layer);
  }

  const before = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  const after = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  for (const [layerNumber, layer] of layers.entries()) {
    const scope = `${PREFIX}/${layerNumber}`;
    const query = layer.scores.input![0];
    const mask = layer.maskedScores.input![layer.maskInput];
    before.set(layer.scores, [{ opType: 'Reshape', name: `${scope}/query`, input: [query, QUERY_SHAPE], output: [`${scope}/query`] }]);
    before.set(layer.maskedScores, [
      { opType: 'Concat', name: `${scope}/mask`, input: Array<string>(groups).fill(mask), output: [`${scope}/mask`], attribute: [intAttribute('axis', 2)] },
    ]);
    layer.scores.input![0] = `${scope}/query`;
    layer.maskedScores.input![layer.maskInput] = `${scope}/mask`;
    for (const { reader, repeated, cache } of [layer.keys, layer.values]) {
      reader.input = reader.input!.map((input) => (input === repeated ? cache : input));
      // transformers sizes the mask from the repeated keys' length; the cache has the same axis 2 and 3.
      for (const shape of lengthReaders(repeated, index)) shape.input![0] = cache;
    }
    // The context comes out per KV head; back to the query's own shape, which the layer's tail expects.
    const context = layer.context.output![0];
    layer.context.output![0] = `${scope}/context`;
    after.set(layer.context, [
      { opType: 'Shape', name: `${scope}/query_shape`, input: [query], output: [`${scope}/query_shape`] },
      { opType: 'Reshape', name: `${scope}/context_per_head`, input: [`${scope}/context`, `${scope}/query_shape`], output: [context] },
    ]);
  }
  graph.node = withoutDeadNodes(
    graph.node.flatMap((node) => [...(before.get(node) ?? []), node, ...(after.get(node) ?? [])]),
    index.graphOutputs,
  );
  graph.initializer = [...(graph.initializer ?? []), { name: QUERY_SHAPE, dataType: INT64, dims: [4], int64Data: [0, heads.keyValueHeads, -1, heads.headDim] }];
  return { rewritten: layers.length };
}

/** Softmax(Add(MatMul(q, Kᵀ), mask)) → [IsNaN/Where] → MatMul(·, V), K and V repeated per query head, or why not. */
function matchLayer(softmax: onnx.INodeProto, index: GraphIndex): LayerAttention | string {
  const maskedScores = index.producers.get(softmax.input![0]);
  if (maskedScores?.opType !== 'Add') return 'its scores are not a MatMul plus a mask';
  const addends = maskedScores.input!.map((input) => soleProducer(index, input));
  const scoresInput = addends.findIndex((node) => node?.opType === 'MatMul');
  if (scoresInput < 0) {
    // optimum's fp16 export: float16 products cast to float32 for the softmax. Blocked in groups, float16
    // products round otherwise than as exported (up to a float16 step of the logits), so they stay as they are.
    const halfPrecision = addends.some((node) => node?.opType === 'Cast' && index.producers.get(node.input![0])?.opType === 'MatMul');
    return halfPrecision ? 'its attention products are float16' : 'its scores are not a MatMul plus a mask';
  }
  const scores = addends[scoresInput]!;
  const keys = transposedKeys(scores.input![1], index);
  if (typeof keys === 'string') return keys;
  const context = contextProduct(softmax, index);
  if (!context) return 'its probabilities do not go to one MatMul';
  const values = repeatedHeadsReader(context, context.input![1], index);
  if (!values) return 'its values are not the repeated KV heads';
  return { scores, maskedScores, maskInput: 1 - scoresInput, keys, context, values };
}

/** Kᵀ: repeat_kv, then Transpose(0, 1, 3, 2), with scalar Muls on either side of it. */
function transposedKeys(tensor: string, index: GraphIndex): RepeatedHeadsReader | string {
  let current = tensor;
  let transposes = 0;
  for (let step = 0; step < 3; step++) {
    const node = soleProducer(index, current);
    const transpose = node?.opType === 'Transpose' && sameInts(attributeInts(node, 'perm'), [0, 1, 3, 2]);
    const scale = node?.opType === 'Mul' && node.input!.some((input) => isScalar(input, index));
    if (!node || (!transpose && !scale)) break;
    if (transpose) transposes++;
    const next = transpose ? node.input![0] : node.input!.find((input) => !isScalar(input, index))!;
    const keys = repeatedHeadsReader(node, next, index);
    if (keys) return transposes === 1 ? keys : 'its keys are not transposed once';
    current = next;
  }
  return 'its keys are not the repeated KV heads, transposed';
}

/** `reader` reading repeat_kv's Reshape(Expand(Unsqueeze(cache, axis 2))), or undefined. */
function repeatedHeadsReader(reader: onnx.INodeProto, repeated: string, index: GraphIndex): RepeatedHeadsReader | undefined {
  const reshape = index.producers.get(repeated);
  const expand = reshape?.opType === 'Reshape' ? index.producers.get(reshape.input![0]) : undefined;
  const unsqueeze = expand?.opType === 'Expand' ? index.producers.get(expand.input![0]) : undefined;
  if (unsqueeze?.opType !== 'Unsqueeze') return undefined;
  const axes = unsqueeze.input![1] ? constantInts(unsqueeze.input![1], index) : attributeInts(unsqueeze, 'axes');
  return sameInts(axes, [2]) ? { reader, repeated, cache: unsqueeze.input![0] } : undefined;
}

/**
 * Shape nodes that read `repeated` only for an axis the cache shares (the sequence length, the head size), so
 * that the repeat, otherwise unread, is not kept alive for its shape.
 */
function lengthReaders(repeated: string, index: GraphIndex): onnx.INodeProto[] {
  return (index.consumers.get(repeated) ?? []).filter(
    (shape) =>
      shape.opType === 'Shape' &&
      !shape.attribute?.length &&
      (index.consumers.get(shape.output![0]) ?? []).every((gather) => {
        const axis = gather.opType === 'Gather' && gather.input![0] === shape.output![0] ? constantInts(gather.input![1], index) : undefined;
        return axis?.length === 1 && [2, 3, -1, -2].includes(axis[0]);
      }),
  );
}

/** The MatMul that reads the probabilities, directly or through transformers' IsNaN → Where(0) guard. */
function contextProduct(softmax: onnx.INodeProto, index: GraphIndex): onnx.INodeProto | undefined {
  const probabilities = softmax.output![0];
  const readers = (index.consumers.get(probabilities) ?? []).filter((node) => node.opType !== 'IsNaN');
  if (readers.length !== 1) return undefined;
  const [reader] = readers;
  if (reader.opType === 'MatMul' && reader.input![0] === probabilities) return reader;
  if (reader.opType !== 'Where') return undefined;
  const product = onlyReader(index, reader.output![0]);
  return product?.opType === 'MatMul' && product.input![0] === reader.output![0] ? product : undefined;
}

/** The node producing `tensor` when nothing else reads it: the rewrite changes its shape. */
function soleProducer(index: GraphIndex, tensor: string): onnx.INodeProto | undefined {
  return onlyReader(index, tensor) ? index.producers.get(tensor) : undefined;
}

function isScalar(tensor: string, index: GraphIndex): boolean {
  const dims = index.constants.get(tensor)?.dims;
  return dims !== undefined && dims !== null && dims.reduce<number>((size, dim) => size * Number(dim), 1) === 1;
}

function constantInts(tensor: string, index: GraphIndex): number[] | undefined {
  return int64Values(index.constants.get(tensor))?.map(Number);
}

function attributeInts(node: onnx.INodeProto, name: string): number[] | undefined {
  return node.attribute?.find((entry) => entry.name === name)?.ints?.map(Number);
}

function sameInts(actual: number[] | undefined, expected: number[]): boolean {
  return actual !== undefined && actual.length === expected.length && actual.every((value, at) => value === expected[at]);
}
