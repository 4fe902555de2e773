import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToFloat16Bits } from '../inference';
import { SafetensorsWeights } from './safetensors-weights';

interface RawTensor {
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** A file laid out as the format says: u64 LE header length, JSON header, data section. */
function encode(tensors: Record<string, RawTensor>, options: { metadata?: Record<string, string>; headerPadding?: number } = {}): Buffer {
  const header: Record<string, unknown> = options.metadata ? { __metadata__: options.metadata } : {};
  let offset = 0;
  for (const [name, tensor] of Object.entries(tensors)) {
    header[name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, offset + tensor.bytes.length] };
    offset += tensor.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(options.headerPadding ?? 0), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...Object.values(tensors).map((tensor) => Buffer.from(tensor.bytes))]);
}

const f32 = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);
const u16 = (bits: number[]): Uint8Array => new Uint8Array(Uint16Array.from(bits).buffer);
/** bfloat16 by truncation: exact for the values below, whose low 16 bits are zero. */
const bf16 = (values: number[]): Uint8Array => u16(Array.from(new Uint32Array(Float32Array.from(values).buffer), (bits) => bits >>> 16));

describe('SafetensorsWeights', () => {
  let dir: string;
  const write = (name: string, content: Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'safetensors-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads F32, F16 and BF16 tensors as exact float32, with the metadata', () => {
    const values = [1, -2.5, 0.125, 65504, -0.0009765625, 3.0517578125e-5];
    const path = write(
      'model.safetensors',
      encode(
        {
          'a.f32': { dtype: 'F32', shape: [2, 3], bytes: f32([0.1, -0.2, 0.3, 1e-30, 3.4e38, -7]) },
          'b.f16': { dtype: 'F16', shape: [6], bytes: u16(values.map(float32ToFloat16Bits)) },
          'c.bf16': { dtype: 'BF16', shape: [3, 1], bytes: bf16([1, -2.5, 3.3895313892515355e38]) },
        },
        { metadata: { format: 'pt' }, headerPadding: 5 },
      ),
    );
    const weights = SafetensorsWeights.open(path);
    try {
      expect(weights.metadata).toEqual({ format: 'pt' });
      expect([...weights.tensors.keys()]).toEqual(['a.f32', 'b.f16', 'c.bf16']);
      expect(weights.get('a.f32', [2, 3])).toEqual(Float32Array.from([0.1, -0.2, 0.3, 1e-30, 3.4e38, -7]));
      expect(Array.from(weights.get('b.f16', [6]))).toEqual(values);
      expect(Array.from(weights.read('c.bf16'))).toEqual([1, -2.5, 3.3895313892515355e38]);
    } finally {
      weights.close();
    }
  });

  it('refuses a shape other than the caller expects, an unknown name, and non-float tensors', () => {
    const path = write(
      'mixed.safetensors',
      encode({
        w: { dtype: 'F32', shape: [2, 2], bytes: f32([1, 2, 3, 4]) },
        ids: { dtype: 'I64', shape: [1], bytes: new Uint8Array(8) },
      }),
    );
    const weights = SafetensorsWeights.open(path);
    try {
      expect(() => weights.get('w', [4])).toThrow(/has shape \[2, 2\], expected \[4\]/);
      expect(() => weights.get('missing', [1])).toThrow(/has no tensor missing/);
      expect(() => weights.read('ids')).toThrow(/I64/);
      expect(weights.has('w')).toBe(true);
    } finally {
      weights.close();
    }
    expect(() => weights.read('w')).toThrow(/closed/);
  });

  it.each([
    ['a header length past the end of the file', () => Buffer.concat([Buffer.from([255, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{}')])],
    ['a header that is not JSON', () => Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{x]')])],
    ['a header that is a JSON array', () => Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[]')])],
    ['data offsets beyond the data section', () => encode({ w: { dtype: 'F32', shape: [2], bytes: f32([1, 2]) } }).subarray(0, -4)],
    ['a byte count that does not match the shape', () => encode({ w: { dtype: 'F16', shape: [3], bytes: u16([1, 2]) } })],
    [
      'overlapping tensors',
      () => {
        const file = encode({ a: { dtype: 'F32', shape: [1], bytes: f32([1]) }, b: { dtype: 'F32', shape: [1], bytes: f32([2]) } });
        return Buffer.from(file.toString('latin1').replace('"data_offsets":[4,8]', '"data_offsets":[0,4]'), 'latin1');
      },
    ],
  ])('rejects %s', (_case, build) => {
    expect(() => SafetensorsWeights.open(write('bad.safetensors', build()))).toThrow();
  });
});
