import { Qwen3WeightSource } from './qwen3-config';
import { elementCount } from './qwen3-weight-layout';

export interface SeededWeightOptions {
  seed?: number;
  /** Standard deviation of matrix entries; 0.02 is Qwen3's `initializer_range`. */
  std?: number;
  /**
   * Norm weights are `1 + normJitter * N(0, 1)`. The default 0 gives HF's initial ones; tests use a
   * jitter so that a graph which forgot to multiply by a norm weight cannot pass.
   */
  normJitter?: number;
}

/**
 * Deterministic synthetic weights: every tensor comes from its own PRNG stream seeded by
 * hash(seed, name), so a tensor's values depend only on the seed, its name and its size, never on which
 * tensors were asked for before it. That lets a writer produce tensors one at a time, in any order.
 */
export function createSeededWeights(options: SeededWeightOptions = {}): Qwen3WeightSource {
  const seed = options.seed ?? 0;
  const std = options.std ?? 0.02;
  const normJitter = options.normJitter ?? 0;
  return {
    get(name: string, shape: readonly number[]): Float32Array {
      const values = new Float32Array(elementCount(shape));
      const random = new Sfc32(hashName(seed, name));
      if (isNormWeight(name)) {
        fillNormal(values, random, normJitter);
        for (let i = 0; i < values.length; i++) values[i] += 1;
      } else {
        fillNormal(values, random, std);
      }
      return values;
    },
  };
}

/** RMSNorm weights (input/post-attention/final norms and the per-head q/k norms) start at one. */
function isNormWeight(name: string): boolean {
  return /(^|\.)[a-z_]*norm\.weight$/.test(name);
}

/** FNV-1a over the name, mixed with the seed: a stable 32-bit stream id per tensor. */
function hashName(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i++) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

// Bound once: inside a vm context (Jest) every global lookup such as `Math` goes through the context's
// interceptors, which made the sampling loop ~20x slower there than in plain Node.
const { log, sqrt } = Math;

/** Normal samples by Marsaglia's polar method: no trigonometry, which matters for 600M values. */
function fillNormal(target: Float32Array, random: Sfc32, std: number): void {
  if (std === 0) return;
  let i = 0;
  while (i < target.length) {
    const u = random.nextSigned();
    const v = random.nextSigned();
    const s = u * u + v * v;
    if (s >= 1 || s === 0) continue;
    const factor = std * sqrt((-2 * log(s)) / s);
    target[i++] = u * factor;
    if (i < target.length) target[i++] = v * factor;
  }
}

/** Chris Doty-Humphrey's SFC32: small, fast and statistically solid for 32-bit output. */
class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private counter = 1;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed | 0;
    // Discard the first outputs so streams of similar seeds decorrelate.
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in (-1, 1). */
  nextSigned(): number {
    return (this.nextUint32() + 0.5) / 2147483648 - 1;
  }
}
