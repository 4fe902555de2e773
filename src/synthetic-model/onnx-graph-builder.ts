import { onnx } from 'onnx-proto';

export const DataType = onnx.TensorProto.DataType;
export type DataType = onnx.TensorProto.DataType;

/** A symbolic (string) or fixed (number) dimension of a graph input or output. */
export type Dim = string | number;

/**
 * A weight whose bytes are produced only when the file writer reaches it, so a multi-gigabyte model is
 * never held in memory whole: the writer asks for one tensor, writes it and lets it go.
 */
export interface DeferredInitializer {
  name: string;
  dataType: DataType;
  dims: number[];
  /** Exactly what `bytes()` will return; the writer lays out offsets and lengths before producing data. */
  byteLength: number;
  /** Little-endian raw tensor data (`raw_data` layout). */
  bytes(): Uint8Array;
}

/** A ModelProto whose graph holds the small constants; the weights travel beside it, deferred. */
export interface OnnxModelWithWeights {
  model: onnx.ModelProto;
  weights: DeferredInitializer[];
}

/** Attributes used by this project's graphs are all integers or integer lists. */
export type IntAttributes = Record<string, number | number[]>;

const BYTES_PER_ELEMENT: Partial<Record<DataType, number>> = {
  [DataType.FLOAT]: 4,
  [DataType.FLOAT16]: 2,
  [DataType.INT64]: 8,
  [DataType.INT8]: 1,
};

export function bytesPerElement(dataType: DataType): number {
  const size = BYTES_PER_ELEMENT[dataType];
  if (size === undefined) throw new Error(`no byte size known for ONNX data type ${dataType}`);
  return size;
}

/**
 * A minimal ONNX graph builder: nodes get unique names under the current scope, outputs are named after
 * their node, small constants are deduplicated initializers. It knows nothing about any model.
 */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly constants: onnx.ITensorProto[] = [];
  private readonly constantNames = new Map<string, string>();
  private readonly weights: DeferredInitializer[] = [];
  private readonly usedNames = new Set<string>();
  private readonly scopes: string[] = [];

  input(name: string, elemType: DataType, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  /** Declares `name` (already produced by a node) a graph output. */
  output(name: string, elemType: DataType, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /** Runs `build` with node names prefixed by `/scope`, mirroring how exporters name nodes. */
  scoped<T>(scope: string, build: () => T): T {
    this.scopes.push(scope);
    try {
      return build();
    } finally {
      this.scopes.pop();
    }
  }

  /** Adds a single-output node; `outputName` fixes the output's name (for graph outputs). */
  node(opType: string, inputs: string[], attributes: IntAttributes = {}, outputName?: string): string {
    return this.nodeWithOutputs(opType, inputs, 1, attributes, outputName ? [outputName] : undefined)[0];
  }

  nodeWithOutputs(opType: string, inputs: string[], outputCount: number, attributes: IntAttributes = {}, outputNames?: string[]): string[] {
    const name = this.uniqueName(`/${[...this.scopes, opType].join('/')}`);
    const outputs = outputNames ?? Array.from({ length: outputCount }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ name, opType, domain: '', input: inputs, output: outputs, attribute: toAttributes(attributes) });
    return outputs;
  }

  /** An int64 constant; `dims` defaults to a 1-D tensor, `[]` makes a scalar. */
  int64(values: number[], dims: number[] = [values.length]): string {
    const data = new BigInt64Array(values.map((value) => BigInt(value)));
    return this.constant(DataType.INT64, dims, new Uint8Array(data.buffer));
  }

  float32(values: number[], dims: number[] = [values.length]): string {
    const data = new Float32Array(values);
    return this.constant(DataType.FLOAT, dims, new Uint8Array(data.buffer));
  }

  weight(initializer: DeferredInitializer): string {
    this.claim(initializer.name);
    this.weights.push(initializer);
    return initializer.name;
  }

  build(graphName: string, metadata: Record<string, string> = {}): OnnxModelWithWeights {
    const model = onnx.ModelProto.create({
      irVersion: 8, // the IR version that goes with opset 17
      opsetImport: [{ domain: '', version: 17 }],
      producerName: 'qwen3guard-gen-web synthetic-model',
      producerVersion: '1',
      graph: {
        name: graphName,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.constants,
      },
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
    return { model, weights: [...this.weights] };
  }

  private constant(dataType: DataType, dims: number[], rawData: Uint8Array): string {
    const key = `${dataType}|${dims.join(',')}|${Buffer.from(rawData).toString('base64')}`;
    const existing = this.constantNames.get(key);
    if (existing) return existing;
    const name = this.uniqueName(`/constants/${dataType === DataType.INT64 ? 'int64' : 'float'}_${this.constants.length}`);
    this.constants.push({ name, dataType, dims, rawData });
    this.constantNames.set(key, name);
    return name;
  }

  private uniqueName(base: string): string {
    let name = base;
    for (let suffix = 1; this.usedNames.has(name); suffix++) name = `${base}_${suffix}`;
    this.usedNames.add(name);
    return name;
  }

  private claim(name: string): void {
    if (this.usedNames.has(name)) throw new Error(`duplicate initializer name ${name}`);
    this.usedNames.add(name);
  }
}

function valueInfo(name: string, elemType: DataType, dims: Dim[]): onnx.IValueInfoProto {
  const dim = dims.map((value) => (typeof value === 'number' ? { dimValue: value } : { dimParam: value }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function toAttributes(attributes: IntAttributes): onnx.IAttributeProto[] {
  return Object.entries(attributes).map(([name, value]) =>
    Array.isArray(value)
      ? { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value }
      : { name, type: onnx.AttributeProto.AttributeType.INT, i: value },
  );
}
