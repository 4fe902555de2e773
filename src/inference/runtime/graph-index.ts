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
