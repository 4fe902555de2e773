/**
 * IEEE 754 binary16 conversion for fp16 weight files and fp16 logits. Half floats travel as their bit patterns in a
 * Uint16Array: onnxruntime-node's binding reads and writes float16 tensors that way (see onnxruntime.ts), also on
 * Node.js releases that define Float16Array.
 */

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** The float16 bit pattern nearest to `value`, ties to even, as torch's `.half()` rounds. */
export function float32ToFloat16Bits(value: number): number {
  scratchFloat[0] = value;
  return float32BitsToFloat16Bits(scratchBits[0]);
}

/** Converts a whole tensor; the caller keeps the float32 source. */
export function toFloat16Bits(values: Float32Array): Uint16Array {
  const source = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const target = new Uint16Array(values.length);
  for (let i = 0; i < source.length; i++) target[i] = float32BitsToFloat16Bits(source[i]);
  return target;
}

/** The exact float32 value of a float16 bit pattern (every half is representable in float32). */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? Number.NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

export function fromFloat16Bits(bits: Uint16Array): Float32Array {
  const result = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) result[i] = float16BitsToFloat32(bits[i]);
  return result;
}

function float32BitsToFloat16Bits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf stays Inf, NaN stays (quiet) NaN
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // beyond 65504 rounds to Inf
  if (halfExponent <= 0) return sign | subnormalHalf(mantissa | 0x800000, 14 - halfExponent);
  // Normal half: keep the top 10 mantissa bits, round the 13 dropped ones. A carry out of the mantissa
  // correctly bumps the exponent (and 65504 + half an ulp correctly becomes Inf).
  const half = (halfExponent << 10) | (mantissa >>> 13);
  return sign | roundDropped(half, mantissa & 0x1fff, 0x1000);
}

/** `significand` (with its implicit leading 1) shifted right by `shift` into a subnormal half. */
function subnormalHalf(significand: number, shift: number): number {
  if (shift > 24) return 0; // below half the smallest subnormal: rounds to zero
  const kept = significand >>> shift;
  const dropped = significand & ((1 << shift) - 1);
  return roundDropped(kept, dropped, 1 << (shift - 1));
}

function roundDropped(kept: number, dropped: number, halfway: number): number {
  if (dropped > halfway || (dropped === halfway && (kept & 1) === 1)) return kept + 1;
  return kept;
}
