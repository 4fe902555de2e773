import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// Runs under the project's Jest environment (test/support/main-realm-environment.js), which shares the
// main realm's typed arrays with the test context so onnxruntime-node's outputs pass its own type checks.
import { ort, fromFloat16Bits } from '../inference';
import { getModelPreset } from './model-presets';
import { writeOnnxModel } from './onnx-model-file';
import { Qwen3Config, Qwen3WeightSource } from './qwen3-config';
import { OnnxIoConvention, OnnxWeightDtype, buildQwen3OnnxModel } from './qwen3-onnx-graph';
import { QWEN3_EMBEDDING, QWEN3_FINAL_NORM, qwen3LayerTensorNames } from './qwen3-weight-layout';
import { createSeededWeights } from './seeded-weights';

jest.setTimeout(60_000);

const config = getModelPreset('tiny');
// Larger than HF's 0.02 and with jittered norm weights, so that every term of the math moves the logits.
const weights = createSeededWeights({ seed: 7, std: 0.08, normJitter: 0.2 });
const VOCAB = config.vocab_size;
const TOLERANCE = 1e-4;
/** fp16 weights and cache against fp32: logits here have RMS ~0.7 and max ~3.3; the measured gap is ~3e-3. */
const FP16_TOLERANCE = 1e-2;

/** Real Qwen3 ids, special tokens included: `<|im_start|>user\nHello, world<|im_end|>`-like. */
const PROMPT = [151644, 872, 198, 9707, 11, 1879, 151645, 198];

type Cache = Record<string, ort.Tensor>;

interface RunInput {
  ids: number[][];
  mask: number[][];
  /** Sent as position_ids to 'optimum' models; defaults to cumsum(mask) - 1 over the new columns. */
  positions?: number[][];
  past?: Cache;
}

interface RunOutput {
  /** [batch][seq] -> logits row, as float32 whatever the model's dtype. */
  logits: Float32Array[][];
  present: Cache;
}

class TinyModel {
  private constructor(
    readonly session: ort.InferenceSession,
    readonly dtype: OnnxWeightDtype,
    readonly io: OnnxIoConvention,
  ) {}

  static async create(path: string, dtype: OnnxWeightDtype, io: OnnxIoConvention): Promise<TinyModel> {
    const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 2 });
    return new TinyModel(session, dtype, io);
  }

  async run(input: RunInput): Promise<RunOutput> {
    const batch = input.ids.length;
    const seq = input.ids[0].length;
    const feeds: Cache = {
      input_ids: int64Tensor(input.ids),
      attention_mask: int64Tensor(input.mask),
      ...(input.past ?? this.emptyCache(batch)),
    };
    if (this.io === 'optimum') feeds.position_ids = int64Tensor(input.positions ?? positionsFromMask(input.mask, seq));
    const outputs = await this.session.run(feeds);
    const present: Cache = {};
    for (const [name, tensor] of Object.entries(outputs)) {
      if (name.startsWith('present.')) present[name.replace('present.', 'past_key_values.')] = tensor;
    }
    return { logits: splitLogits(outputs.logits, batch, seq), present };
  }

  private emptyCache(batch: number): Cache {
    const cache: Cache = {};
    const dims = [batch, config.num_key_value_heads, 0, config.head_dim];
    for (let layer = 0; layer < config.num_hidden_layers; layer++) {
      for (const part of ['key', 'value']) {
        cache[`past_key_values.${layer}.${part}`] =
          this.dtype === 'fp16' ? new ort.Tensor('float16', new Uint16Array(0), dims) : new ort.Tensor('float32', new Float32Array(0), dims);
      }
    }
    return cache;
  }
}

function int64Tensor(rows: number[][]): ort.Tensor {
  const data = BigInt64Array.from(rows.flat().map((value) => BigInt(value)));
  return new ort.Tensor('int64', data, [rows.length, rows[0].length]);
}

/** position_ids as HF computes them for padded batches: cumsum(mask) - 1, clipped at 0, last `seq` columns. */
function positionsFromMask(mask: number[][], seq: number): number[][] {
  return mask.map((row) => {
    let count = 0;
    const positions = row.map((value) => Math.max(0, (count += value) - 1));
    return positions.slice(positions.length - seq);
  });
}

function splitLogits(tensor: ort.Tensor, batch: number, seq: number): Float32Array[][] {
  expect(tensor.dims).toEqual([batch, seq, VOCAB]);
  const data = tensor.type === 'float16' ? fromFloat16Bits(tensor.data as Uint16Array) : (tensor.data as Float32Array);
  return Array.from({ length: batch }, (_, b) => Array.from({ length: seq }, (_, s) => data.subarray((b * seq + s) * VOCAB, (b * seq + s + 1) * VOCAB)));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= max)) max = diff; // NaN propagates as a failure
  }
  return max;
}

function maxAbs(values: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) max = Math.max(max, Math.abs(values[i]));
  return max;
}

function ones(length: number): number[] {
  return new Array<number>(length).fill(1);
}

describe('Qwen3 ONNX graph (tiny preset, onnxruntime-node)', () => {
  let dir: string;
  let fp32: TinyModel;
  let genai: TinyModel;
  let fp16: TinyModel;
  let external: TinyModel;
  let externalPath: string;
  let inlinePath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qwen3-onnx-graph-'));
    const write = (file: string, dtype: OnnxWeightDtype, io: OnnxIoConvention, externalData: boolean) => {
      const path = join(dir, file);
      writeOnnxModel(path, buildQwen3OnnxModel(config, weights, { dtype, io }), { externalData });
      return path;
    };
    inlinePath = write('model.onnx', 'fp32', 'optimum', false);
    externalPath = write('external/model.onnx', 'fp32', 'optimum', true);
    fp32 = await TinyModel.create(inlinePath, 'fp32', 'optimum');
    external = await TinyModel.create(externalPath, 'fp32', 'optimum');
    genai = await TinyModel.create(write('genai.onnx', 'fp32', 'genai', false), 'fp32', 'genai');
    fp16 = await TinyModel.create(write('model_fp16.onnx', 'fp16', 'optimum', false), 'fp16', 'optimum');
  });

  afterAll(async () => {
    for (const model of [fp32, genai, fp16, external]) await model?.session.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('exposes the optimum and genai signatures', () => {
    const pastNames = [0, 1].flatMap((layer) => [`past_key_values.${layer}.key`, `past_key_values.${layer}.value`]);
    const presentNames = [0, 1].flatMap((layer) => [`present.${layer}.key`, `present.${layer}.value`]);
    expect(fp32.session.inputNames).toEqual(['input_ids', 'attention_mask', 'position_ids', ...pastNames]);
    expect(genai.session.inputNames).toEqual(['input_ids', 'attention_mask', ...pastNames]);
    expect(fp32.session.outputNames).toEqual(['logits', ...presentNames]);
    expect(genai.session.outputNames).toEqual(['logits', ...presentNames]);
  });

  it('builds the attention mask once, as an additive bias every layer reads (no per-layer Where over the scores)', () => {
    const nodes = buildQwen3OnnxModel(config, weights, { dtype: 'fp32', io: 'optimum' }).model.graph!.node!;
    const softmaxInputs = nodes.filter((node) => node.opType === 'Softmax').map((node) => node.input![0]);
    const producers = softmaxInputs.map((input) => nodes.find((node) => node.output!.includes(input))!);
    expect(producers.map((node) => node.opType)).toEqual(new Array(config.num_hidden_layers).fill('Add'));
    expect(new Set(producers.map((node) => node.input![1])).size).toBe(1);
    expect(nodes.filter((node) => node.opType === 'Where')).toHaveLength(1);
  });

  it('(a) a cached decoding step gives the logits of a full pass', async () => {
    for (const model of [fp32, genai]) {
      const full = await model.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
      const prefix = PROMPT.slice(0, -1);
      const prefill = await model.run({ ids: [prefix], mask: [ones(prefix.length)] });
      expect(prefill.present['past_key_values.0.key'].dims).toEqual([1, 2, prefix.length, 32]);
      const step = await model.run({
        ids: [PROMPT.slice(-1)],
        mask: [ones(PROMPT.length)],
        positions: [[PROMPT.length - 1]],
        past: prefill.present,
      });
      expect(step.present['past_key_values.1.value'].dims).toEqual([1, 2, PROMPT.length, 32]);
      expect(maxAbsDiff(step.logits[0][0], full.logits[0][PROMPT.length - 1])).toBeLessThan(TOLERANCE);
      prefix.forEach((_, s) => expect(maxAbsDiff(prefill.logits[0][s], full.logits[0][s])).toBeLessThan(TOLERANCE));
    }
  });

  it('(a) several cached steps in a row match too (positions keep advancing)', async () => {
    const full = await fp32.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
    let state = await fp32.run({ ids: [PROMPT.slice(0, 3)], mask: [ones(3)] });
    for (let length = 4; length <= PROMPT.length; length++) {
      state = await fp32.run({ ids: [[PROMPT[length - 1]]], mask: [ones(length)], positions: [[length - 1]], past: state.present });
      expect(maxAbsDiff(state.logits[0][0], full.logits[0][length - 1])).toBeLessThan(TOLERANCE);
    }
  });

  it('(b) a left-padded batch gives each row the logits of its own single run, before and after a cached step', async () => {
    const long = PROMPT.slice(0, 6);
    const short = [9707, 11, 1879];
    const padding = long.length - short.length;
    const ids = [long, [...new Array<number>(padding).fill(151643), ...short]];
    const mask = [ones(long.length), [...new Array<number>(padding).fill(0), ...ones(short.length)]];
    for (const model of [fp32, genai]) {
      const batched = await model.run({ ids, mask }); // position_ids = cumsum(mask) - 1
      const singleLong = await model.run({ ids: [long], mask: [mask[0]] });
      const singleShort = await model.run({ ids: [short], mask: [ones(short.length)] });
      long.forEach((_, s) => expect(maxAbsDiff(batched.logits[0][s], singleLong.logits[0][s])).toBeLessThan(TOLERANCE));
      short.forEach((_, s) => expect(maxAbsDiff(batched.logits[1][padding + s], singleShort.logits[0][s])).toBeLessThan(TOLERANCE));
      // Fully padded query rows must stay finite (a -inf mask would make them NaN).
      expect(Number.isFinite(maxAbs(batched.logits[1][0]))).toBe(true);

      const next = [[42], [100]];
      const stepMask = mask.map((row) => [...row, 1]);
      const batchedStep = await model.run({ ids: next, mask: stepMask, past: batched.present });
      const longStep = await model.run({ ids: [next[0]], mask: [ones(long.length + 1)], past: singleLong.present });
      const shortStep = await model.run({ ids: [next[1]], mask: [ones(short.length + 1)], past: singleShort.present });
      expect(maxAbsDiff(batchedStep.logits[0][0], longStep.logits[0][0])).toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(batchedStep.logits[1][0], shortStep.logits[0][0])).toBeLessThan(TOLERANCE);
    }
  });

  it('(b) the padding mask matters: unmasking the padding changes the short row', async () => {
    const ids = [[151643, 151643, 9707, 11, 1879]];
    const masked = await fp32.run({ ids, mask: [[0, 0, 1, 1, 1]] });
    const unmasked = await fp32.run({ ids, mask: [[1, 1, 1, 1, 1]], positions: [[0, 0, 0, 1, 2]] });
    expect(maxAbsDiff(masked.logits[0][4], unmasked.logits[0][4])).toBeGreaterThan(1e-2);
  });

  it('(c) optimum and genai conventions give the same logits, padded and cached', async () => {
    const ids = [PROMPT.slice(0, 5), [151643, 151643, 9707, 11, 1879]];
    const mask = [ones(5), [0, 0, 1, 1, 1]];
    const optimumRun = await fp32.run({ ids, mask });
    const genaiRun = await genai.run({ ids, mask });
    for (let b = 0; b < 2; b++) {
      for (let s = 0; s < 5; s++) expect(maxAbsDiff(optimumRun.logits[b][s], genaiRun.logits[b][s])).toBeLessThan(1e-5);
    }
    const stepMask = mask.map((row) => [...row, 1]);
    const optimumStep = await fp32.run({ ids: [[7], [8]], mask: stepMask, past: optimumRun.present });
    const genaiStep = await genai.run({ ids: [[7], [8]], mask: stepMask, past: genaiRun.present });
    for (let b = 0; b < 2; b++) expect(maxAbsDiff(optimumStep.logits[b][0], genaiStep.logits[b][0])).toBeLessThan(1e-5);
  });

  it(`(d) fp16 agrees with fp32 within ${FP16_TOLERANCE} (logits and cache are float16 at the boundary)`, async () => {
    const reference = await fp32.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
    const half = await fp16.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
    expect(half.present['past_key_values.0.key'].type).toBe('float16');
    const scale = maxAbs(reference.logits[0][0]);
    PROMPT.forEach((_, s) => expect(maxAbsDiff(half.logits[0][s], reference.logits[0][s])).toBeLessThan(FP16_TOLERANCE));
    expect(scale).toBeGreaterThan(1); // the tolerance is small against the logits' scale

    // The fp16 cache path is self-consistent: a cached step matches the full fp16 pass closely.
    const prefill = await fp16.run({ ids: [PROMPT.slice(0, -1)], mask: [ones(PROMPT.length - 1)] });
    const step = await fp16.run({ ids: [PROMPT.slice(-1)], mask: [ones(PROMPT.length)], past: prefill.present });
    expect(maxAbsDiff(step.logits[0][0], half.logits[0][PROMPT.length - 1])).toBeLessThan(1e-2);
  });

  it('(e) external data round-trips: same logits as the inline file', async () => {
    expect(existsSync(`${externalPath}_data`)).toBe(true);
    expect(statSync(externalPath).size).toBeLessThan(1_000_000);
    expect(statSync(`${externalPath}_data`).size).toBeGreaterThan(statSync(inlinePath).size * 0.95);
    const inline = await fp32.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
    const fromExternal = await external.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] });
    PROMPT.forEach((_, s) => expect(maxAbsDiff(fromExternal.logits[0][s], inline.logits[0][s])).toBe(0));
  });

  describe('(f) against an independent float64 forward pass', () => {
    let graphLogits: Float32Array[];
    let reference: Float64Array[];

    beforeAll(async () => {
      graphLogits = (await fp32.run({ ids: [PROMPT], mask: [ones(PROMPT.length)] })).logits[0];
      reference = referenceForward(config, weights, PROMPT);
    });

    it('matches the reference at every position', () => {
      PROMPT.forEach((_, s) => expect(maxAbsDiff(graphLogits[s], reference[s])).toBeLessThan(TOLERANCE));
    });

    it('would notice a wrong rope theta, missing q/k norms or a wrong GQA head pairing', () => {
      const mutations: ReferenceMutation[] = [{ ropeTheta: 10_000 }, { skipQkNorm: true }, { interleavedKvHeads: true }];
      for (const mutation of mutations) {
        const mutated = referenceForward(config, weights, PROMPT, mutation, true);
        expect(maxAbsDiff(graphLogits[PROMPT.length - 1], mutated[PROMPT.length - 1])).toBeGreaterThan(1e-2);
      }
    });
  });
});

interface ReferenceMutation {
  ropeTheta?: number;
  skipQkNorm?: boolean;
  /** Query head h reads KV head h % kvHeads instead of HF's h / groups. */
  interleavedKvHeads?: boolean;
}

/**
 * Qwen3ForCausalLM written out as plain loops in float64, token by token with a growing cache, straight
 * from the HF modeling code's equations. Shares nothing with the graph builder but the weight names.
 */
function referenceForward(
  cfg: Qwen3Config,
  source: Qwen3WeightSource,
  tokens: number[],
  mutation: ReferenceMutation = {},
  lastPositionOnly = false,
): Float64Array[] {
  const H = cfg.hidden_size;
  const D = cfg.head_dim;
  const heads = cfg.num_attention_heads;
  const kvHeads = cfg.num_key_value_heads;
  const groups = heads / kvHeads;
  const inter = cfg.intermediate_size;
  const theta = mutation.ropeTheta ?? cfg.rope_theta;
  const embedding = source.get(QWEN3_EMBEDDING, [cfg.vocab_size, H]);
  const layers = Array.from({ length: cfg.num_hidden_layers }, (_, layer) => {
    const n = qwen3LayerTensorNames(layer);
    return {
      inputNorm: source.get(n.inputNorm, [H]),
      q: source.get(n.qProj, [heads * D, H]),
      k: source.get(n.kProj, [kvHeads * D, H]),
      v: source.get(n.vProj, [kvHeads * D, H]),
      o: source.get(n.oProj, [H, heads * D]),
      qNorm: source.get(n.qNorm, [D]),
      kNorm: source.get(n.kNorm, [D]),
      postNorm: source.get(n.postAttentionNorm, [H]),
      gate: source.get(n.gateProj, [inter, H]),
      up: source.get(n.upProj, [inter, H]),
      down: source.get(n.downProj, [H, inter]),
      keys: [] as Float64Array[][], // [position][kvHead] -> rotated key
      values: [] as Float64Array[][],
    };
  });
  const finalNorm = source.get(QWEN3_FINAL_NORM, [H]);

  const rmsNorm = (x: Float64Array, weight: Float32Array): Float64Array => {
    let sum = 0;
    for (const value of x) sum += value * value;
    const scale = 1 / Math.sqrt(sum / x.length + cfg.rms_norm_eps);
    return x.map((value, i) => value * scale * weight[i]);
  };
  // y = W x for torch Linear weight W [out, in].
  const linear = (w: Float32Array, x: Float64Array, out: number): Float64Array => {
    const y = new Float64Array(out);
    for (let o = 0; o < out; o++) {
      let sum = 0;
      for (let i = 0; i < x.length; i++) sum += w[o * x.length + i] * x[i];
      y[o] = sum;
    }
    return y;
  };
  // Rotate pairs (i, i + D/2) by position * theta^(-2i/D): rotate_half's pairing, written per pair.
  const rope = (x: Float64Array, position: number): Float64Array => {
    const y = new Float64Array(D);
    for (let i = 0; i < D / 2; i++) {
      const angle = position * Math.pow(theta, (-2 * i) / D);
      const [a, b] = [x[i], x[i + D / 2]];
      y[i] = a * Math.cos(angle) - b * Math.sin(angle);
      y[i + D / 2] = b * Math.cos(angle) + a * Math.sin(angle);
    }
    return y;
  };
  const headSlice = (x: Float64Array, head: number) => x.slice(head * D, (head + 1) * D);
  const addInto = (target: Float64Array, delta: Float64Array) => delta.forEach((value, i) => (target[i] += value));

  return tokens.map((token, position) => {
    const hidden = Float64Array.from(embedding.subarray(token * H, (token + 1) * H));
    for (const layer of layers) {
      const x = rmsNorm(hidden, layer.inputNorm);
      const q = linear(layer.q, x, heads * D);
      const k = linear(layer.k, x, kvHeads * D);
      const v = linear(layer.v, x, kvHeads * D);
      const normHead = (vector: Float64Array, weight: Float32Array) => (mutation.skipQkNorm ? vector : rmsNorm(vector, weight));
      layer.keys.push(Array.from({ length: kvHeads }, (_, h) => rope(normHead(headSlice(k, h), layer.kNorm), position)));
      layer.values.push(Array.from({ length: kvHeads }, (_, h) => headSlice(v, h)));

      const context = new Float64Array(heads * D);
      for (let h = 0; h < heads; h++) {
        const kvHead = mutation.interleavedKvHeads ? h % kvHeads : Math.floor(h / groups);
        const query = rope(normHead(headSlice(q, h), layer.qNorm), position);
        const scores = layer.keys.map((keysAt) => {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += query[d] * keysAt[kvHead][d];
          return dot / Math.sqrt(D);
        });
        const max = Math.max(...scores);
        const exps = scores.map((score) => Math.exp(score - max));
        const total = exps.reduce((a, b) => a + b, 0);
        exps.forEach((e, j) => {
          for (let d = 0; d < D; d++) context[h * D + d] += (e / total) * layer.values[j][kvHead][d];
        });
      }
      addInto(hidden, linear(layer.o, context, H));

      const y = rmsNorm(hidden, layer.postNorm);
      const gate = linear(layer.gate, y, inter);
      const up = linear(layer.up, y, inter);
      const activated = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      addInto(hidden, linear(layer.down, activated, H));
    }
    // Tied head: logits = E · norm(hidden); the vocab-sized product is the costly part, so it can be skipped.
    if (lastPositionOnly && position < tokens.length - 1) return new Float64Array(0);
    return linear(embedding, rmsNorm(hidden, finalNorm), cfg.vocab_size);
  });
}
