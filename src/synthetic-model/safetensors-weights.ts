import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { float16BitsToFloat32 } from '../inference';
import { Qwen3WeightSource } from './qwen3-config';
import { elementCount } from './qwen3-weight-layout';

/** Element types this reader converts to float32. */
export const SAFETENSORS_FLOAT_DTYPES = ['F32', 'F16', 'BF16'] as const;
export type SafetensorsFloatDtype = (typeof SAFETENSORS_FLOAT_DTYPES)[number];

const BYTES_PER_ELEMENT: Record<SafetensorsFloatDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** A header larger than this is not a checkpoint header (the format's own readers cap it at 100 MB). */
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range in the data section (which starts right after the header). */
  begin: number;
  end: number;
}

/**
 * A `.safetensors` file read tensor by tensor: an 8-byte little-endian header length, a JSON header
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {...}}`), then the raw
 * little-endian tensor bytes. Only the header is read up front, so a multi-gigabyte checkpoint costs one
 * tensor of memory at a time. As a Qwen3WeightSource it feeds the graph builder the checkpoint's own
 * weights by their Hugging Face names, converted to float32 (F32, F16 and BF16 are exact in float32).
 */
export class SafetensorsWeights implements Qwen3WeightSource {
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly dataStart: number,
    readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>,
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    this.fd = fd;
  }

  static open(path: string): SafetensorsWeights {
    const fd = openSync(path, 'r');
    try {
      const fileBytes = fstatSync(fd).size;
      const lengthBytes = readExactly(fd, 0, 8, path);
      const headerBytes = Number(new DataView(lengthBytes.buffer).getBigUint64(0, true));
      if (headerBytes > MAX_HEADER_BYTES || 8 + headerBytes > fileBytes) {
        throw new Error(`${path}: header length ${headerBytes} does not fit a ${fileBytes}-byte file`);
      }
      const header = parseHeader(readExactly(fd, 8, headerBytes, path), path);
      const dataStart = 8 + headerBytes;
      const { tensors, metadata } = validateHeader(header, fileBytes - dataStart, path);
      return new SafetensorsWeights(path, fd, dataStart, tensors, metadata);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The tensor as float32, after checking it has the shape the caller expects. */
  get(name: string, shape: readonly number[]): Float32Array {
    const info = this.info(name);
    if (info.shape.length !== shape.length || info.shape.some((size, axis) => size !== shape[axis])) {
      throw new Error(`${this.path}: ${name} has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return this.read(name);
  }

  /** The tensor as float32, whatever its shape. */
  read(name: string): Float32Array {
    const info = this.info(name);
    if (!isFloatDtype(info.dtype)) {
      throw new Error(`${this.path}: ${name} is ${info.dtype}; only ${SAFETENSORS_FLOAT_DTYPES.join(', ')} convert to float32`);
    }
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    const bytes = readExactly(this.fd, this.dataStart + info.begin, info.end - info.begin, this.path);
    return toFloat32(bytes, info.dtype);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private info(name: string): SafetensorsTensorInfo {
    const info = this.tensors.get(name);
    if (!info) throw new Error(`${this.path} has no tensor ${name}`);
    return info;
  }
}

function isFloatDtype(dtype: string): dtype is SafetensorsFloatDtype {
  return (SAFETENSORS_FLOAT_DTYPES as readonly string[]).includes(dtype);
}

function parseHeader(bytes: Uint8Array, path: string): Record<string, unknown> {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new Error(`${path}: the header is not valid UTF-8 JSON (${(error as Error).message})`, { cause: error });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new Error(`${path}: the header is not a JSON object`);
  }
  return header as Record<string, unknown>;
}

function validateHeader(header: Record<string, unknown>, dataBytes: number, path: string) {
  const tensors = new Map<string, SafetensorsTensorInfo>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const validShape = Array.isArray(shape) && shape.every((size) => Number.isSafeInteger(size) && size >= 0);
    const validOffsets = Array.isArray(offsets) && offsets.length === 2 && offsets.every((o) => Number.isSafeInteger(o) && o >= 0);
    if (typeof dtype !== 'string' || !validShape || !validOffsets) {
      throw new Error(`${path}: tensor ${name} needs a dtype, a shape and data_offsets [begin, end]`);
    }
    const [begin, end] = offsets as number[];
    if (begin > end || end > dataBytes) {
      throw new Error(`${path}: tensor ${name} spans bytes [${begin}, ${end}) of a ${dataBytes}-byte data section`);
    }
    if (isFloatDtype(dtype) && end - begin !== elementCount(shape as number[]) * BYTES_PER_ELEMENT[dtype]) {
      throw new Error(`${path}: tensor ${name} (${dtype} [${(shape as number[]).join(', ')}]) has ${end - begin} bytes`);
    }
    tensors.set(name, { name, dtype, shape: [...(shape as number[])], begin, end });
  }
  const spans = [...tensors.values()].sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].begin < spans[i - 1].end) throw new Error(`${path}: tensors ${spans[i - 1].name} and ${spans[i].name} overlap`);
  }
  return { tensors, metadata };
}

function readExactly(fd: number, position: number, length: number, path: string): Uint8Array {
  // A fresh ArrayBuffer per tensor: offset 0, so typed views over it are always aligned.
  const bytes = new Uint8Array(new ArrayBuffer(length));
  let done = 0;
  while (done < length) {
    const read = readSync(fd, bytes, done, length - done, position + done);
    if (read === 0) throw new Error(`${path} ends before byte ${position + length}`);
    done += read;
  }
  return bytes;
}

/** Raw little-endian bytes to float32 (typed arrays use the platform order: little-endian on x86 and ARM). */
function toFloat32(bytes: Uint8Array, dtype: SafetensorsFloatDtype): Float32Array {
  if (dtype === 'F32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const halves = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  const result = new Float32Array(halves.length);
  if (dtype === 'F16') {
    for (let i = 0; i < halves.length; i++) result[i] = float16BitsToFloat32(halves[i]);
  } else {
    // bfloat16 is the top half of a float32.
    const bits = new Uint32Array(result.buffer);
    for (let i = 0; i < halves.length; i++) bits[i] = halves[i] << 16;
  }
  return result;
}
