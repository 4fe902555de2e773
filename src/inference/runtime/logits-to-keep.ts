import { onnx } from 'onnx-proto';
import { consumersOf, producersOf } from './graph-index';

/** The input a rewritten decoder takes (int64, shape [1]): logits come back for each row's last k positions only. */
export const LOGITS_TO_KEEP = 'logits_to_keep';

/** Ops that project the final hidden state onto the vocabulary (float, int8 dynamic, int4/int8 weight-only). */
const HEAD_OPS = new Set(['MatMul', 'Gemm', 'MatMulInteger', 'MatMulNBits']);
/** Ops an export may put between the head and `logits`: reshapes, casts, dequantization scales. */
const TAIL_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Cast', 'Identity', 'Mul', 'Add', 'Div']);
/** Ops between the hidden state and the head that only reshape or retype it, position by position. */
const LAYOUT_OPS = new Set(['Reshape', 'Flatten', 'Cast', 'Identity']);
/** Slice with its bounds as inputs. */
const MIN_OPSET = 10;

/**
 * Gives a decoded decoder export a {@link LOGITS_TO_KEEP} input; returns why it cannot, leaving the model as it
 * was then.
 *
 * Exports compute logits for every position they are fed, and the vocabulary projection is about a quarter
 * of a 0.6B model's FLOPs per token, while a prefill reads only its last few positions. The rewrite slices the
 * final hidden state right before the LM head, so the kept positions' logits are what the whole graph computes:
 * nothing upstream changes, and a per-tensor activation quantizer before the head (int8 exports run per pass)
 * still sees every position.
 */
export function addLogitsToKeep(model: onnx.IModelProto): string | undefined {
  const graph = model.graph;
  if (!graph?.node) return 'it has no graph';
  // int64 in the proto: a number or a Long, whichever protobufjs decoded; Number() reads both.
  const opset: unknown = model.opsetImport?.find((entry) => !entry.domain || entry.domain === 'ai.onnx')?.version;
  if (opset !== undefined && opset !== null && Number(opset) < MIN_OPSET) return `its opset ${Number(opset)} has no Slice with inputs`;
  if (graph.input?.some((input) => input.name === LOGITS_TO_KEEP)) return `it already has a \`${LOGITS_TO_KEEP}\` input`;

  const nodes = graph.node;
  const producers = producersOf(nodes);
  const head = closestHead(producers, 'logits');
  if (!head) return 'no MatMul or Gemm leads to its `logits` through reshapes, casts and scales only';
  let hidden = head.input![0];
  for (let producer = producers.get(hidden); producer && LAYOUT_OPS.has(producer.opType!); producer = producers.get(hidden)) {
    hidden = producer.input![0];
  }
  const source = producers.get(hidden);
  if (!source) return 'its LM head reads a graph input';
  const reached = outputsReachedFrom(nodes, hidden, new Set((graph.output ?? []).map((output) => output.name!)));
  if (reached.length !== 1 || reached[0] !== 'logits') return `its final hidden state also feeds ${reached.filter((name) => name !== 'logits').join(', ')}`;

  const kept = `${LOGITS_TO_KEEP}/hidden`;
  for (const node of nodes) node.input = node.input?.map((input) => (input === hidden ? kept : input));
  const starts = `${LOGITS_TO_KEEP}/starts`;
  const ends = `${LOGITS_TO_KEEP}/ends`;
  const axes = `${LOGITS_TO_KEEP}/axes`;
  nodes.splice(
    nodes.indexOf(source) + 1,
    0,
    { opType: 'Neg', name: `${LOGITS_TO_KEEP}/Neg`, input: [LOGITS_TO_KEEP], output: [starts] },
    // The sequence axis of [batch, sequence, hidden]: each row's positions -k..end.
    { opType: 'Slice', name: `${LOGITS_TO_KEEP}/Slice`, input: [hidden, starts, ends, axes], output: [kept] },
  );
  graph.initializer = [...(graph.initializer ?? []), int64Tensor(ends, 2n ** 63n - 1n), int64Tensor(axes, 1n)];
  graph.input = [
    ...(graph.input ?? []),
    { name: LOGITS_TO_KEEP, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64, shape: { dim: [{ dimValue: 1 }] } } } },
  ];
  const logitsDims = graph.output?.find((output) => output.name === 'logits')?.type?.tensorType?.shape?.dim;
  if (logitsDims && logitsDims.length === 3) logitsDims[1] = { dimParam: 'kept_positions' };
  return undefined;
}

/** The head op nearest to `output`, searching its inputs breadth first across tail ops only. */
function closestHead(producers: Map<string, onnx.INodeProto>, output: string): onnx.INodeProto | undefined {
  const queue = [output];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    const node = producers.get(queue[i]);
    if (!node) continue;
    if (HEAD_OPS.has(node.opType!)) return node;
    if (!TAIL_OPS.has(node.opType!)) continue;
    for (const input of node.input ?? []) {
      if (!seen.has(input)) {
        seen.add(input);
        queue.push(input);
      }
    }
  }
  return undefined;
}

/** The graph outputs that depend on `tensor`. */
function outputsReachedFrom(nodes: onnx.INodeProto[], tensor: string, graphOutputs: Set<string>): string[] {
  const consumers = consumersOf(nodes);
  const reached = new Set<string>();
  const queue = [tensor];
  const seen = new Set(queue);
  for (let i = 0; i < queue.length; i++) {
    if (graphOutputs.has(queue[i])) reached.add(queue[i]);
    for (const node of consumers.get(queue[i]) ?? []) {
      for (const output of node.output ?? []) {
        if (!seen.has(output)) {
          seen.add(output);
          queue.push(output);
        }
      }
    }
  }
  return [...reached];
}

function int64Tensor(name: string, value: bigint): onnx.ITensorProto {
  return { name, dataType: onnx.TensorProto.DataType.INT64, dims: [1], rawData: new Uint8Array(BigInt64Array.of(value).buffer) };
}
