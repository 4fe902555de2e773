import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { getModelPreset } from './model-presets';
import { DataType, OnnxModelWithWeights } from './onnx-graph-builder';
import { writeOnnxModel } from './onnx-model-file';
import { Qwen3Config } from './qwen3-config';
import { buildQwen3OnnxModel } from './qwen3-onnx-graph';
import { createSeededWeights } from './seeded-weights';

/** A few-kilobyte Qwen3: enough structure for the file format, no runtime needed. */
const MICRO: Qwen3Config = {
  ...getModelPreset('tiny'),
  vocab_size: 300,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 8,
};

/** Standard ONNX operators this builder may use; anything else would be a contrib op or a typo. */
const STANDARD_OPS = new Set([
  'Add',
  'And',
  'Cast',
  'Concat',
  'Cos',
  'CumSum',
  'Gather',
  'Gemm',
  'Greater',
  'MatMul',
  'Max',
  'Mul',
  'Neg',
  'Not',
  'Range',
  'Reciprocal',
  'ReduceMean',
  'Reshape',
  'Shape',
  'Sigmoid',
  'Sin',
  'Slice',
  'Softmax',
  'Split',
  'Sqrt',
  'Squeeze',
  'Sub',
  'Transpose',
  'Unsqueeze',
  'Where',
]);

function build(dtype: 'fp32' | 'fp16' = 'fp32', io: 'optimum' | 'genai' = 'genai'): OnnxModelWithWeights {
  return buildQwen3OnnxModel(MICRO, createSeededWeights({ seed: 5 }), { dtype, io });
}

/** Decoded messages are fully populated; the generated types just do not say so. */
function decode(path: string): { model: onnx.ModelProto; graph: onnx.GraphProto; initializers: onnx.TensorProto[] } {
  const model = onnx.ModelProto.decode(readFileSync(path));
  const graph = model.graph as onnx.GraphProto;
  return { model, graph, initializers: graph.initializer as onnx.TensorProto[] };
}

describe('writeOnnxModel', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'onnx-model-file-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('streams weights inline into a valid opset 17 ModelProto', () => {
    const built = build('fp16');
    const written = writeOnnxModel(join(dir, 'model.onnx'), built);
    expect(written.dataPath).toBeNull();
    const { model, graph, initializers: tensors } = decode(written.modelPath);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((opset) => [opset.domain, Number(opset.version)])).toEqual([['', 17]]);
    expect(graph.node).toHaveLength(built.model.graph!.node!.length);
    for (const node of graph.node) {
      expect(node.domain).toBe('');
      expect(STANDARD_OPS).toContain(node.opType);
    }
    const initializers = new Map(tensors.map((tensor) => [tensor.name, tensor]));
    expect(initializers.size).toBe(built.model.graph!.initializer!.length + built.weights.length);
    for (const weight of built.weights) {
      const tensor = initializers.get(weight.name)!;
      expect(tensor.dataType).toBe(DataType.FLOAT16);
      expect(tensor.dims.map(Number)).toEqual(weight.dims);
      expect(Buffer.from(tensor.rawData).equals(Buffer.from(weight.bytes()))).toBe(true);
    }
  });

  it('writes aligned external data that the tensor entries point at', () => {
    const built = build('fp32');
    const path = join(dir, 'onnx', 'model.onnx');
    const written = writeOnnxModel(path, built, { externalData: true });
    expect(written.dataPath).toBe(`${path}_data`);
    const data = readFileSync(written.dataPath!);
    const external = decode(path).initializers.filter((tensor) => tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL);
    expect(external.map((tensor) => tensor.name)).toEqual(built.weights.map((weight) => weight.name));
    external.forEach((tensor, i) => {
      const entries = Object.fromEntries(tensor.externalData.map((entry) => [entry.key, entry.value]));
      expect(entries.location).toBe('model.onnx_data');
      const offset = Number(entries.offset);
      const length = Number(entries.length);
      expect(offset % 4096).toBe(0);
      expect(tensor.rawData).toHaveLength(0);
      expect(data.subarray(offset, offset + length).equals(Buffer.from(built.weights[i].bytes()))).toBe(true);
    });
    expect(readdirSync(join(dir, 'onnx')).sort()).toEqual(['model.onnx', 'model.onnx_data']);
  });

  it('reports progress per tensor', () => {
    const built = build();
    const seen: number[] = [];
    writeOnnxModel(join(dir, 'model.onnx'), built, { onTensor: (progress) => seen.push(progress.index) });
    expect(seen).toEqual(built.weights.map((_, i) => i + 1));
  });

  it('refuses inline weights past the protobuf limit, and goes external on its own', () => {
    const built = build();
    const huge: OnnxModelWithWeights = {
      model: built.model,
      weights: [
        {
          name: 'huge',
          dataType: DataType.FLOAT,
          dims: [600_000_000],
          byteLength: 2_400_000_000,
          bytes: () => {
            throw new Error('must not be produced');
          },
        },
      ],
    };
    expect(() => writeOnnxModel(join(dir, 'huge.onnx'), huge, { externalData: false })).toThrow(/2 GB/);
    expect(() => writeOnnxModel(join(dir, 'auto.onnx'), huge)).toThrow('must not be produced'); // 'auto' chose external
    expect(readdirSync(dir)).toEqual([]); // nothing half-written is left behind
  });

  it('rejects a weight whose data does not match its announced size', () => {
    const built = build();
    built.weights[1] = { ...built.weights[1], bytes: () => new Uint8Array(3) };
    expect(() => writeOnnxModel(join(dir, 'model.onnx'), built)).toThrow(/produced 3 bytes/);
    expect(existsSync(join(dir, 'model.onnx'))).toBe(false);
  });
});
