import { closeSync, openSync, writeSync } from 'node:fs';
import { Qwen3WeightSource } from './qwen3-config';
import { Qwen3TensorSpec, elementCount } from './qwen3-weight-layout';

/**
 * Writes a float32 `.safetensors` checkpoint (the layout SafetensorsWeights reads: an 8-byte little-endian
 * header length, the JSON header, then each tensor's little-endian bytes in header order) one tensor at a
 * time, so a 0.6B model costs one tensor of memory. `format: pt` is the metadata transformers' own
 * checkpoints carry; converters such as llama.cpp's read the directory as a PyTorch checkpoint.
 */
export function writeSafetensorsCheckpoint(path: string, specs: readonly Qwen3TensorSpec[], weights: Qwen3WeightSource): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const spec of specs) {
    const bytes = 4 * elementCount(spec.shape);
    header[spec.name] = { dtype: 'F32', shape: spec.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  // Padded with spaces to a multiple of 8 bytes, so every tensor starts aligned (as the reference writer does).
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, length);
    writeSync(fd, json);
    for (const spec of specs) {
      const values = weights.get(spec.name, spec.shape);
      writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
  } finally {
    closeSync(fd);
  }
}
