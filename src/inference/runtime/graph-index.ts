import { onnx } from 'onnx-proto';

/** Each tensor's producing node, for the load-time rewrites that walk a decoded graph. */
export function producersOf(nodes: readonly onnx.INodeProto[]): Map<string, onnx.INodeProto> {
  const producers = new Map<string, onnx.INodeProto>();
  for (const node of nodes) for (const output of node.output ?? []) producers.set(output, node);
  return producers;
}

/** Each tensor's reading nodes, each node once even where it reads the tensor twice. */
export function consumersOf(nodes: readonly onnx.INodeProto[]): Map<string, onnx.INodeProto[]> {
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const node of nodes) {
    for (const input of new Set(node.input ?? [])) {
      const readers = consumers.get(input);
      if (readers) readers.push(node);
      else consumers.set(input, [node]);
    }
  }
  return consumers;
}

/** Who reads each tensor, and which tensors leave the graph: enough to know whether a node may be changed. */
export interface GraphReaders {
  consumers: Map<string, onnx.INodeProto[]>;
  graphOutputs: Set<string>;
}

/** The single node reading `tensor`, or undefined (also when the tensor leaves the graph). */
export function onlyReader(index: GraphReaders, tensor: string): onnx.INodeProto | undefined {
  const readers = index.consumers.get(tensor) ?? [];
  return readers.length === 1 && !index.graphOutputs.has(tensor) ? readers[0] : undefined;
}

/** An int64 tensor's values, whichever field holds them; undefined for another type or no tensor. */
export function int64Values(tensor: onnx.ITensorProto | undefined): bigint[] | undefined {
  if (tensor?.dataType !== onnx.TensorProto.DataType.INT64) return undefined;
  if (tensor.int64Data?.length) return tensor.int64Data.map((value) => BigInt(String(value)));
  // rawData may sit at an odd offset in the decoded buffer: copied before it is viewed as 8-byte values.
  return tensor.rawData ? [...new BigInt64Array(Uint8Array.from(tensor.rawData).buffer)] : undefined;
}

/** A float32 tensor's values, whichever field holds them; undefined for another type or no tensor. */
export function float32Values(tensor: onnx.ITensorProto | undefined): number[] | undefined {
  if (tensor?.dataType !== onnx.TensorProto.DataType.FLOAT) return undefined;
  if (tensor.floatData?.length) return [...tensor.floatData];
  return tensor.rawData ? [...new Float32Array(Uint8Array.from(tensor.rawData).buffer)] : undefined;
}

/** Initializers and Constant nodes' values, by tensor name. */
export function constantTensors(graph: onnx.IGraphProto): Map<string, onnx.ITensorProto> {
  const constants = new Map((graph.initializer ?? []).map((tensor) => [tensor.name!, tensor]));
  for (const node of graph.node ?? []) {
    const value = node.opType === 'Constant' ? node.attribute?.find((entry) => entry.name === 'value')?.t : undefined;
    if (value) constants.set(node.output![0], value);
  }
  return constants;
}

/** Who makes and who reads each tensor, and the constants' values: what the attention rewrites match against. */
export interface GraphIndex extends GraphReaders {
  producers: Map<string, onnx.INodeProto>;
  constants: Map<string, onnx.ITensorProto>;
}

export function indexGraph(graph: onnx.IGraphProto): GraphIndex {
  const nodes = graph.node ?? [];
  return {
    producers: producersOf(nodes),
    consumers: consumersOf(nodes),
    graphOutputs: new Set((graph.output ?? []).map((output) => output.name!)),
    constants: constantTensors(graph),
  };
}

export function intAttribute(name: string, value: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
}

/**
 * The nodes, in their order, that something in `outputs` still depends on: a rewrite that bypasses part of a
 * graph leaves it behind, and onnxruntime would run it. Rewrites append nodes anywhere (onnxruntime sorts them),
 * so this follows producers rather than the list's order. A graph with subgraphs (If, Loop) is returned whole:
 * their bodies read outer tensors that their node's inputs do not list.
 */
export function withoutDeadNodes(nodes: readonly onnx.INodeProto[], outputs: ReadonlySet<string>): onnx.INodeProto[] {
  const hasSubgraph = nodes.some((node) => node.attribute?.some((attribute) => attribute.g || attribute.graphs?.length));
  if (hasSubgraph) return [...nodes];
  const producers = producersOf(nodes);
  const live = new Set<onnx.INodeProto>();
  const pending = [...outputs];
  while (pending.length > 0) {
    const node = producers.get(pending.pop()!);
    if (!node || live.has(node)) continue;
    live.add(node);
    pending.push(...(node.input ?? []));
  }
  return nodes.filter((node) => live.has(node));
}
