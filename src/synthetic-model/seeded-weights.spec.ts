import { createSeededWeights } from './seeded-weights';

describe('createSeededWeights', () => {
  const Q = 'model.layers.0.self_attn.q_proj.weight';
  const K = 'model.layers.0.self_attn.k_proj.weight';

  it('is deterministic and independent of the order tensors are asked for', () => {
    const first = createSeededWeights({ seed: 3 });
    const q1 = first.get(Q, [64, 32]);
    const k1 = first.get(K, [32, 32]);
    const second = createSeededWeights({ seed: 3 });
    const k2 = second.get(K, [32, 32]);
    const q2 = second.get(Q, [64, 32]);
    expect(q2).toEqual(q1);
    expect(k2).toEqual(k1);
    expect(first.get(Q, [64, 32])).toEqual(q1); // asking twice gives the same tensor
  });

  it('differs between tensors and between seeds', () => {
    const weights = createSeededWeights({ seed: 3 });
    expect(weights.get(Q, [16])).not.toEqual(weights.get(K, [16]));
    expect(createSeededWeights({ seed: 4 }).get(Q, [16])).not.toEqual(weights.get(Q, [16]));
  });

  it('draws matrices from N(0, 0.02)', () => {
    const values = createSeededWeights({ seed: 1 }).get('model.embed_tokens.weight', [1000, 100]);
    let sum = 0;
    let squares = 0;
    for (const value of values) {
      sum += value;
      squares += value * value;
    }
    const mean = sum / values.length;
    const std = Math.sqrt(squares / values.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(2e-4);
    expect(Math.abs(std - 0.02)).toBeLessThan(2e-4);
    const beyondThreeSigma = values.filter((value) => Math.abs(value) > 0.06).length / values.length;
    expect(beyondThreeSigma).toBeGreaterThan(0.0015); // normal: 0.27%; a uniform would give 0
    expect(beyondThreeSigma).toBeLessThan(0.004);
  });

  it('makes every RMSNorm weight ones, or jittered ones on request', () => {
    const names = [
      'model.norm.weight',
      'model.layers.3.input_layernorm.weight',
      'model.layers.3.post_attention_layernorm.weight',
      'model.layers.3.self_attn.q_norm.weight',
      'model.layers.3.self_attn.k_norm.weight',
    ];
    for (const name of names) expect(Array.from(createSeededWeights().get(name, [8]))).toEqual(new Array(8).fill(1));
    const jittered = createSeededWeights({ normJitter: 0.1 }).get('model.norm.weight', [64]);
    expect(jittered.some((value) => Math.abs(value - 1) > 0.01)).toBe(true);
    expect(jittered.every((value) => Math.abs(value - 1) < 0.6)).toBe(true);
  });
});
