import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { onnx } from 'onnx-proto';
import { DeferredInitializer, OnnxModelWithWeights } from './onnx-graph-builder';

/**
 * Protobuf messages cannot exceed 2 GiB, and onnxruntime refuses larger model files; keep a margin for
 * the graph itself. Above this, weights must go to an external-data file.
 */
export const INLINE_WEIGHT_LIMIT_BYTES = 1_900_000_000;

/** External tensors start on page boundaries, which lets onnxruntime map them instead of copying. */
const EXTERNAL_DATA_ALIGNMENT = 4096;

/** Protobuf tags (field number << 3 | wire type 2) of the fields written by hand while streaming. */
const MODEL_GRAPH_TAG = (7 << 3) | 2;
const GRAPH_INITIALIZER_TAG = (5 << 3) | 2;
const TENSOR_RAW_DATA_TAG = (9 << 3) | 2;

export interface TensorWriteProgress {
  name: string;
  /** 1-based index of the tensor just written. */
  index: number;
  count: number;
  bytesWritten: number;
  totalBytes: number;
}

export interface WriteOnnxModelOptions {
  /** true: always an external-data file; false: never; 'auto' (default): only above the 2 GB limit. */
  externalData?: boolean | 'auto';
  onTensor?: (progress: TensorWriteProgress) => void;
}

export interface WrittenOnnxModel {
  modelPath: string;
  /** `<modelPath>_data` when the weights went to external data, else null. */
  dataPath: string | null;
  weightBytes: number;
}

/**
 * Writes the model to `path`, producing and writing one weight at a time so that peak memory is about
 * one tensor (the embedding), not the model. Files appear under their final names only when complete.
 */
export function writeOnnxModel(path: string, built: OnnxModelWithWeights, options: WriteOnnxModelOptions = {}): WrittenOnnxModel {
  const weightBytes = built.weights.reduce((total, weight) => total + weight.byteLength, 0);
  const mode = options.externalData ?? 'auto';
  const external = mode === true || (mode === 'auto' && weightBytes > INLINE_WEIGHT_LIMIT_BYTES);
  if (!external && weightBytes > INLINE_WEIGHT_LIMIT_BYTES) {
    throw new Error(`${weightBytes} bytes of weights cannot be stored inline (protobuf 2 GB limit); use external data`);
  }
  mkdirSync(dirname(path), { recursive: true });
  const progress = progressReporter(built.weights, weightBytes, options.onTensor);
  if (!external) {
    writeAtomically(path, (fd) => writeInlineModel(fd, built, progress));
    return { modelPath: path, dataPath: null, weightBytes };
  }
  const dataPath = `${path}_data`;
  let tensors: onnx.ITensorProto[] = [];
  writeAtomically(dataPath, (fd) => {
    tensors = writeExternalData(fd, built.weights, basename(dataPath), progress);
  });
  const model = withInitializers(built.model, tensors);
  writeAtomically(path, (fd) => writeFully(fd, onnx.ModelProto.encode(model).finish()));
  return { modelPath: path, dataPath, weightBytes };
}

type ProgressReporter = (weight: DeferredInitializer) => void;

function progressReporter(weights: DeferredInitializer[], totalBytes: number, onTensor?: (progress: TensorWriteProgress) => void): ProgressReporter {
  let index = 0;
  let bytesWritten = 0;
  return (weight) => {
    index++;
    bytesWritten += weight.byteLength;
    onTensor?.({ name: weight.name, index, count: weights.length, bytesWritten, totalBytes });
  };
}

/**
 * A protobuf message is the concatenation of its fields, and repeated fields may come in any order, so
 * the model can be streamed as: model fields without the graph, the graph's tag and length, the graph
 * fields without the weights, then one `initializer` field per weight. Every length is known up front
 * from the weights' byte lengths; only the weight data itself is produced on the way.
 */
function writeInlineModel(fd: number, built: OnnxModelWithWeights, progress: ProgressReporter): void {
  const modelHeader = onnx.ModelProto.encode({ ...built.model, graph: null }).finish();
  const graphHeader = onnx.GraphProto.encode(built.model.graph!).finish();
  const tensorHeaders = built.weights.map((weight) => onnx.TensorProto.encode({ name: weight.name, dims: weight.dims, dataType: weight.dataType }).finish());
  const tensorLengths = built.weights.map((weight, i) => tensorHeaders[i].length + fieldPrefixLength(weight.byteLength) + weight.byteLength);
  const graphLength = tensorLengths.reduce((total, length) => total + fieldPrefixLength(length) + length, graphHeader.length);

  writeFully(fd, modelHeader);
  writeFully(fd, fieldPrefix(MODEL_GRAPH_TAG, graphLength));
  writeFully(fd, graphHeader);
  built.weights.forEach((weight, i) => {
    const data = producedBytes(weight);
    writeFully(fd, fieldPrefix(GRAPH_INITIALIZER_TAG, tensorLengths[i]));
    writeFully(fd, tensorHeaders[i]);
    writeFully(fd, fieldPrefix(TENSOR_RAW_DATA_TAG, data.length));
    writeFully(fd, data);
    progress(weight);
  });
}

/** Writes each weight at an aligned offset and returns the tensor entries that point at it. */
function writeExternalData(fd: number, weights: DeferredInitializer[], location: string, progress: ProgressReporter): onnx.ITensorProto[] {
  let offset = 0;
  return weights.map((weight) => {
    const data = producedBytes(weight);
    writeFully(fd, data, offset);
    const tensor: onnx.ITensorProto = {
      name: weight.name,
      dims: weight.dims,
      dataType: weight.dataType,
      dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(data.length) },
      ],
    };
    offset = alignUp(offset + data.length, EXTERNAL_DATA_ALIGNMENT);
    progress(weight);
    return tensor;
  });
}

function withInitializers(model: onnx.IModelProto, extra: onnx.ITensorProto[]): onnx.IModelProto {
  const graph = model.graph!;
  return { ...model, graph: { ...graph, initializer: [...(graph.initializer ?? []), ...extra] } };
}

function producedBytes(weight: DeferredInitializer): Uint8Array {
  const data = weight.bytes();
  if (data.length !== weight.byteLength) {
    throw new Error(`weight ${weight.name} produced ${data.length} bytes, announced ${weight.byteLength}`);
  }
  return data;
}

function writeAtomically(path: string, write: (fd: number) => void): void {
  const partial = `${path}.partial`;
  const fd = openSync(partial, 'w');
  try {
    write(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(partial, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(partial, path);
}

/** writeSync may write less than asked for large buffers; loop until all is on disk. */
function writeFully(fd: number, data: Uint8Array, position?: number): void {
  let written = 0;
  while (written < data.length) {
    const chunk = data.subarray(written, Math.min(data.length, written + 0x40000000));
    written += writeSync(fd, chunk, 0, chunk.length, position === undefined ? null : position + written);
  }
}

function fieldPrefixLength(length: number): number {
  return 1 + varint(length).length;
}

function fieldPrefix(tag: number, length: number): Uint8Array {
  return Uint8Array.from([tag, ...varint(length)]);
}

/** Base-128 varint; arithmetic rather than bit operations so values above 2^31 stay exact. */
function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return bytes;
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
