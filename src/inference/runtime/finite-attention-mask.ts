import { onnx } from 'onnx-proto';
import { GraphIndex, float32Values, indexGraph, onlyReader, withoutDeadNodes } from './graph-index';

/**
 * transformers' exports (optimum's `model.onnx`, `model_quantized.onnx`, `model_fp16.onnx`) mask attention by
 * adding -inf, and since a query row that may see no key at all would then come out of softmax as NaN, they
 * guard every layer's probabilities with `Where(IsNaN(p), 0, p)`: two more passes over the largest tensor of the
 * layer, about an eighth of a 16-token int8 verdict on the 0.6B shape (docs/performance.md). This rewrite masks
 * with the lowest float32 instead, as the builder's files do, and drops the guard:
 *
 *   - a key masked with the lowest float gets the weight -inf gives it, exactly 0 (its exponent underflows), so
 *     every row that sees a key computes the same bits, wherever a row's numbers depend on its own row alone;
 *   - a row that sees none, which the engine only feeds as left padding ahead of a row's first token, averages
 *     the keys instead of coming out as zeros: no NaN arises for a guard to catch, and no position the engine
 *     reads attends to such a row's keys.
 *
 * All layers or none: the mask must be the export's own `Where(condition, 0, -inf)`, read by the layers' score
 * Adds alone, so that nothing else sees the new value. Not with int8 activations quantized per pass
 * (`DynamicQuantizeLinear`, as exported; per-token-int8.ts rewrites them first): one scale spans the padding
 * rows too, so their new values would move every row's numbers.
 */

const PREFIX = 'finite_attention_mask';
const LOWEST = `${PREFIX}/lowest`;
const LOWEST_FLOAT32 = -3.4028234663852886e38;
const { FLOAT } = onnx.TensorProto.DataType;

export type FiniteAttentionMaskRewrite = { rewritten: number } | { skipped: string };

/** One layer's guarded softmax and the mask its scores add. */
interface GuardedSoftmax {
  softmax: onnx.INodeProto;
  guard: onnx.INodeProto;
  mask: onnx.INodeProto;
  /** Which of the mask Where's inputs is the -inf constant. */
  negativeInfinityInput: number;
}

/** `{ rewritten: 0 }` for a model whose softmaxes have no NaN guard (the builder's), `skipped` when one mask is not the pattern. */
export function makeAttentionMaskFinite(model: onnx.IModelProto): FiniteAttentionMaskRewrite {
  const graph = model.graph;
  if (!graph?.node) return { skipped: 'it has no graph' };
  if (graph.initializer?.some((tensor) => tensor.name === LOWEST)) return { skipped: 'it is already rewritten' };
  if (graph.node.some((node) => node.opType === 'DynamicQuantizeLinear')) {
    return { skipped: 'its int8 activations are quantized per pass, with one scale over the padding rows too' };
  }
  const index = indexGraph(graph);
  const guarded = graph.node.flatMap((softmax) => {
    const guard = softmax.opType === 'Softmax' && !softmax.domain ? nanGuard(softmax, index) : undefined;
    return guard ? [{ softmax, guard }] : [];
  });
  if (guarded.length === 0) return { rewritten: 0 };
  const layers: GuardedSoftmax[] = [];
  for (const { softmax, guard } of guarded) {
    const layer = matchLayer(softmax, guard, index);
    if (typeof layer === 'string') return { skipped: `${softmax.name || softmax.output?.[0]}: ${layer}` };
    layers.push(layer);
  }
  const scoreAdds = new Set(layers.map(({ softmax }) => index.producers.get(softmax.input![0])));
  if (layers.some(({ mask }) => index.consumers.get(mask.output![0])!.some((reader) => !scoreAdds.has(reader)))) {
    return { skipped: 'its -inf mask is read by more than the attention scores' };
  }

  const guardOutputs = new Map<string, string>();
  for (const { softmax, guard, mask, negativeInfinityInput } of layers) {
    mask.input![negativeInfinityInput] = LOWEST;
    guardOutputs.set(guard.output![0], softmax.output![0]);
  }
  for (const node of graph.node) node.input = node.input?.map((input) => guardOutputs.get(input) ?? input);
  graph.node = withoutDeadNodes(graph.node, index.graphOutputs);
  graph.initializer = [...(graph.initializer ?? []), { name: LOWEST, dataType: FLOAT, dims: [], floatData: [LOWEST_FLOAT32] }];
  return { rewritten: layers.length };
}

/** transformers' guard on a softmax's output: `Where(IsNaN(p), 0, p)`, the IsNaN read by the Where alone. */
function nanGuard(softmax: onnx.INodeProto, index: GraphIndex): onnx.INodeProto | undefined {
  const probabilities = softmax.output![0];
  const readers = index.consumers.get(probabilities) ?? [];
  const isNan = readers.find((node) => node.opType === 'IsNaN');
  const guard = isNan && onlyReader(index, isNan.output![0]);
  const [condition, replacement, otherwise] = guard?.input ?? [];
  const guards = guard?.opType === 'Where' && condition === isNan!.output![0] && otherwise === probabilities && isConstant(replacement, 0, index);
  return guards && readers.length === 2 ? guard : undefined;
}

/** The Where(condition, 0, -inf) that a guarded softmax's scores add, or why not. */
function matchLayer(softmax: onnx.INodeProto, guard: onnx.INodeProto, index: GraphIndex): GuardedSoftmax | string {
  const maskedScores = index.producers.get(softmax.input![0]);
  if (maskedScores?.opType !== 'Add' || !onlyReader(index, maskedScores.output![0]))
    return 'its scores are not a sum of scores and mask read by the softmax alone';
  for (const addend of maskedScores.input!) {
    const mask = index.producers.get(addend);
    if (mask?.opType !== 'Where') continue;
    const [, whenTrue, whenFalse] = mask.input!;
    if (isConstant(whenTrue, 0, index) && isConstant(whenFalse, -Infinity, index)) return { softmax, guard, mask, negativeInfinityInput: 2 };
    if (isConstant(whenTrue, -Infinity, index) && isConstant(whenFalse, 0, index)) return { softmax, guard, mask, negativeInfinityInput: 1 };
  }
  return 'its mask is not a float32 Where(condition, 0, -inf)';
}

/** A float32 constant of one element equal to `value`. */
function isConstant(tensor: string | undefined, value: number, index: GraphIndex): boolean {
  const values = tensor === undefined ? undefined : float32Values(index.constants.get(tensor));
  return values?.length === 1 && values[0] === value;
}
