import { toFloat16Bits } from '../inference';
import { DataType, DeferredInitializer, OnnxGraphBuilder, OnnxModelWithWeights, bytesPerElement } from './onnx-graph-builder';
import { Qwen3Config, Qwen3WeightSource } from './qwen3-config';
import { QWEN3_EMBEDDING, QWEN3_FINAL_NORM, QWEN3_LM_HEAD, elementCount, qwen3LayerTensorNames } from './qwen3-weight-layout';

/**
 * Storage precision of the weights, and of the KV cache and logits at the graph's boundary. 'int8': the layout
 * onnxruntime's `quantize_dynamic` writes (optimum's `model_quantized.onnx`): every Linear's weight in int8 per
 * output channel, its activations quantized per pass by DynamicQuantizeLinear; embedding, norms, LM head, KV
 * cache and logits in float32.
 */
export type OnnxWeightDtype = 'fp32' | 'fp16' | 'int8';

/**
 * 'optimum': transformers.js / onnx-community inputs, with `position_ids`.
 * 'genai': onnxruntime-genai style inputs, without `position_ids` (derived from `attention_mask`).
 */
export type OnnxIoConvention = 'optimum' | 'genai';

export interface Qwen3OnnxOptions {
  dtype: OnnxWeightDtype;
  io: OnnxIoConvention;
}

/**
 * torch.finfo(float32).min, what transformers puts in masked score slots. Finite on purpose: a fully
 * masked row (a left-padding query) then softmaxes to a harmless uniform row instead of NaN.
 */
const MASKED_SCORE = -3.4028234663852886e38;

/** Symbolic dimension names as optimum writes them. */
const BATCH = 'batch_size';
const SEQUENCE = 'sequence_length';
const PAST_SEQUENCE = 'past_sequence_length';
const TOTAL_SEQUENCE = 'total_sequence_length';

interface GraphContext {
  g: OnnxGraphBuilder;
  config: Qwen3Config;
  weights: Qwen3WeightSource;
  dtype: OnnxWeightDtype;
  /** int8: each activation's quantizer outputs, shared by the Linears that read it (q/k/v, gate/up). */
  quantizedActivations: Map<string, QuantizedActivation>;
}

/** DynamicQuantizeLinear's outputs. */
interface QuantizedActivation {
  quantized: string;
  scale: string;
  zeroPoint: string;
}

/** Cos and sin tables for the current positions, `[batch, 1, seq, head_dim]` (broadcast over heads). */
interface RotaryTables {
  cos: string;
  sin: string;
}

/** `[1]`-shaped int64 lengths read from the inputs' shapes. */
interface SequenceLengths {
  seq: string;
  past: string;
  total: string;
}

/**
 * Builds a Qwen3ForCausalLM decoder with KV cache as an ONNX opset 17 graph of standard operators only,
 * computing exactly what transformers' eager implementation computes (in float32). Weights are deferred:
 * nothing is generated until a writer asks for each tensor.
 */
export function buildQwen3OnnxModel(config: Qwen3Config, weights: Qwen3WeightSource, options: Qwen3OnnxOptions): OnnxModelWithWeights {
  validateConfig(config);
  const g = new OnnxGraphBuilder();
  const ctx: GraphContext = { g, config, weights, dtype: options.dtype, quantizedActivations: new Map() };
  const kvType = options.dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const kvHeads = config.num_key_value_heads;
  const headDim = config.head_dim;

  const inputIds = g.input('input_ids', DataType.INT64, [BATCH, SEQUENCE]);
  const attentionMask = g.input('attention_mask', DataType.INT64, [BATCH, TOTAL_SEQUENCE]);
  const explicitPositions = options.io === 'optimum' ? g.input('position_ids', DataType.INT64, [BATCH, SEQUENCE]) : undefined;
  const pastNames = layerIndices(config).map((layer) => ({
    key: g.input(`past_key_values.${layer}.key`, kvType, [BATCH, kvHeads, PAST_SEQUENCE, headDim]),
    value: g.input(`past_key_values.${layer}.value`, kvType, [BATCH, kvHeads, PAST_SEQUENCE, headDim]),
  }));

  const lengths = g.scoped('model/lengths', () => sequenceLengths(g, inputIds, attentionMask));
  const positions = explicitPositions ?? g.scoped('model/positions', () => positionsFromMask(g, attentionMask, lengths));
  const rotary = g.scoped('model/rotary_emb', () => rotaryTables(ctx, positions));
  const bias = g.scoped('model/mask', () => attentionBias(g, attentionMask, lengths, config.num_attention_heads / kvHeads));

  const embedding = g.scoped('model/embed_tokens', () => storedWeight(ctx, QWEN3_EMBEDDING, [config.vocab_size, config.hidden_size]));
  let hidden = g.scoped('model/embed_tokens', () => g.node('Gather', [embedding, inputIds], { axis: 0 }));
  for (const layer of layerIndices(config)) {
    hidden = g.scoped(`model/layers.${layer}`, () => decoderLayer(ctx, hidden, { layer, rotary, bias, past: pastNames[layer] }));
  }
  hidden = g.scoped('model/norm', () => rmsNorm(ctx, hidden, QWEN3_FINAL_NORM, config.hidden_size));
  g.scoped('lm_head', () => lmHead(ctx, hidden, embedding, inputIds));

  g.output('logits', kvType, [BATCH, SEQUENCE, config.vocab_size]);
  for (const layer of layerIndices(config)) {
    g.output(`present.${layer}.key`, kvType, [BATCH, kvHeads, TOTAL_SEQUENCE, headDim]);
    g.output(`present.${layer}.value`, kvType, [BATCH, kvHeads, TOTAL_SEQUENCE, headDim]);
  }
  return g.build('qwen3', { model_type: 'qwen3', synthetic: 'true', dtype: options.dtype, io: options.io });
}

function validateConfig(config: Qwen3Config): void {
  if (config.num_attention_heads % config.num_key_value_heads !== 0) {
    throw new Error('num_attention_heads must be a multiple of num_key_value_heads');
  }
  if (config.head_dim % 2 !== 0) throw new Error('head_dim must be even for rotary embeddings');
}

function layerIndices(config: Qwen3Config): number[] {
  return Array.from({ length: config.num_hidden_layers }, (_, layer) => layer);
}

function sequenceLengths(g: OnnxGraphBuilder, inputIds: string, attentionMask: string): SequenceLengths {
  // The mask spans past + new tokens, so past = total - seq needs no look at the (maybe empty) cache.
  const seq = g.node('Shape', [inputIds], { start: 1, end: 2 });
  const total = g.node('Shape', [attentionMask], { start: 1, end: 2 });
  const past = g.node('Sub', [total, seq]);
  return { seq, past, total };
}

/** genai convention: position = number of real tokens before this one, i.e. cumsum(mask) - 1, >= 0. */
function positionsFromMask(g: OnnxGraphBuilder, attentionMask: string, lengths: SequenceLengths): string {
  const cumulative = g.node('CumSum', [attentionMask, g.int64([1], [])]);
  const zeroBased = g.node('Sub', [cumulative, g.int64([1], [])]);
  const clipped = g.node('Max', [zeroBased, g.int64([0], [])]); // padding before the first token: 0
  return g.node('Slice', [clipped, lengths.past, lengths.total, g.int64([1])]);
}

/**
 * HF's default rotary embedding: inv_freq_i = theta^(-2i/d), angles = position * inv_freq, and the
 * tables cover the whole head as cat(angles, angles), matching the rotate_half pairing (i, i + d/2).
 */
function rotaryTables(ctx: GraphContext, positions: string): RotaryTables {
  const { g, config } = ctx;
  const half = config.head_dim / 2;
  const invFreq = Array.from({ length: half }, (_, i) => 1 / config.rope_theta ** ((2 * i) / config.head_dim));
  const positionsFloat = g.node('Cast', [positions], { to: DataType.FLOAT });
  const column = g.node('Unsqueeze', [positionsFloat, g.int64([2])]); // [batch, seq, 1]
  const angles = g.node('Mul', [column, g.float32(invFreq)]); // [batch, seq, d/2]
  const fullAngles = g.node('Concat', [angles, angles], { axis: -1 }); // [batch, seq, d]
  const headAxis = g.int64([1]);
  return {
    cos: g.node('Unsqueeze', [g.node('Cos', [fullAngles]), headAxis]),
    sin: g.node('Unsqueeze', [g.node('Sin', [fullAngles]), headAxis]),
  };
}

/**
 * Float `[batch, 1, groups * seq, total]`, added to the grouped `[batch, kv_heads, groups * seq, total]` scores
 * (the bias of `[seq, total]` repeated once per query head of a group): 0 where query i (absolute position
 * past + i) may see key j (j <= past + i and attention_mask[b, j] is 1), the lowest float elsewhere. Built once
 * and added in every layer, as optimum's exports do. A per-layer Where over the scores took a quarter of
 * onnxruntime's CPU kernel time for 256 tokens after 1,024 cached ones (0.6B shape), the Add a tenth; the
 * logits are bitwise the same (a score plus the lowest float rounds to it).
 */
function attentionBias(g: OnnxGraphBuilder, attentionMask: string, lengths: SequenceLengths, groups: number): string {
  const scalarAxis = g.int64([0]);
  const total = g.node('Squeeze', [lengths.total, scalarAxis]);
  const past = g.node('Squeeze', [lengths.past, scalarAxis]);
  const one = g.int64([1], []);
  const keyPositions = g.node('Range', [g.int64([0], []), total, one]); // [total]
  const queryPositions = g.node('Range', [past, total, one]); // [seq]
  const queryColumn = g.node('Unsqueeze', [queryPositions, g.int64([1])]); // [seq, 1]
  const causal = g.node('Not', [g.node('Greater', [keyPositions, queryColumn])]); // [seq, total]
  const notPadding = g.node('Cast', [attentionMask], { to: DataType.BOOL }); // [batch, total]
  const notPaddingRows = g.node('Unsqueeze', [notPadding, g.int64([1])]); // [batch, 1, total]
  const allowed = g.node('And', [causal, notPaddingRows]); // [batch, seq, total]
  const bias = g.node('Where', [allowed, g.float32([0], []), g.float32([MASKED_SCORE], [])]); // [batch, seq, total]
  const perGroup = groups === 1 ? bias : g.node('Concat', new Array<string>(groups).fill(bias), { axis: 1 });
  return g.node('Unsqueeze', [perGroup, g.int64([1])]);
}

/** What one decoder layer reads besides its input: its index, the shared rotary tables and mask, its past cache. */
interface LayerInputs {
  layer: number;
  rotary: RotaryTables;
  /** From attentionBias: 0 for the keys each query may attend to, the lowest float for the others. */
  bias: string;
  past: { key: string; value: string };
}

function decoderLayer(ctx: GraphContext, hidden: string, inputs: LayerInputs): string {
  const { g, config } = ctx;
  const names = qwen3LayerTensorNames(inputs.layer);
  const attentionInput = g.scoped('input_layernorm', () => rmsNorm(ctx, hidden, names.inputNorm, config.hidden_size));
  const attention = g.scoped('self_attn', () => selfAttention(ctx, attentionInput, inputs));
  const afterAttention = g.node('Add', [hidden, attention]);
  const mlpInput = g.scoped('post_attention_layernorm', () => rmsNorm(ctx, afterAttention, names.postAttentionNorm, config.hidden_size));
  const mlpOutput = g.scoped('mlp', () => mlp(ctx, mlpInput, inputs.layer));
  return g.node('Add', [afterAttention, mlpOutput]);
}

/** x * rsqrt(mean(x^2) + eps) * w over the last axis, in float32 like HF's Qwen3RMSNorm. */
function rmsNorm(ctx: GraphContext, x: string, weightName: string, size: number): string {
  const { g } = ctx;
  const meanSquare = g.node('ReduceMean', [g.node('Mul', [x, x])], { axes: [-1], keepdims: 1 });
  const variance = g.node('Add', [meanSquare, g.float32([ctx.config.rms_norm_eps], [])]);
  const inverseRms = g.node('Reciprocal', [g.node('Sqrt', [variance])]);
  const normalized = g.node('Mul', [x, inverseRms]);
  return g.node('Mul', [normalized, storedWeight(ctx, weightName, [size])]);
}

function selfAttention(ctx: GraphContext, x: string, { layer, rotary, bias, past }: LayerInputs): string {
  const { g, config } = ctx;
  const names = qwen3LayerTensorNames(layer);
  const heads = config.num_attention_heads;
  const kvHeads = config.num_key_value_heads;
  const headDim = config.head_dim;

  // Projections -> [batch, heads, seq, head_dim]; q/k get their per-head RMSNorm before rotary, as in HF.
  const query = g.scoped('q', () => {
    const projected = splitHeads(g, linear(ctx, x, names.qProj, heads * headDim, config.hidden_size), heads, headDim);
    return toHeadMajor(g, rmsNorm(ctx, projected, names.qNorm, headDim));
  });
  const key = g.scoped('k', () => {
    const projected = splitHeads(g, linear(ctx, x, names.kProj, kvHeads * headDim, config.hidden_size), kvHeads, headDim);
    return toHeadMajor(g, rmsNorm(ctx, projected, names.kNorm, headDim));
  });
  const value = g.scoped('v', () => toHeadMajor(g, splitHeads(g, linear(ctx, x, names.vProj, kvHeads * headDim, config.hidden_size), kvHeads, headDim)));
  const rotatedQuery = g.scoped('q_rotary', () => applyRotary(ctx, query, rotary));
  const rotatedKey = g.scoped('k_rotary', () => applyRotary(ctx, key, rotary));

  const keys = g.scoped('key_cache', () => appendToCache(ctx, past.key, rotatedKey, `present.${layer}.key`));
  const values = g.scoped('value_cache', () => appendToCache(ctx, past.value, value, `present.${layer}.value`));

  // Grouped-query attention without copying the cache: the query heads that read one KV head become one
  // [groups * seq, d] matrix (query head h reads KV head h / groups, exactly the pairing of HF's repeat_kv).
  // Besides reading each cached key once, this keeps both products at two rows or more for a one-token pass:
  // onnxruntime's CPU MatMul computes a one-row product another way (it rounds differently), so the numbers of a
  // token would otherwise depend on whether it came alone or with others (an int8 quantizer then turns that
  // last-bit difference into whole steps now and then).
  const groupedQuery = g.node('Reshape', [rotatedQuery, g.int64([0, kvHeads, -1, headDim])]);
  const keysTransposed = g.node('Transpose', [keys], { perm: [0, 1, 3, 2] });
  const rawScores = g.node('MatMul', [groupedQuery, keysTransposed]);
  const scores = g.node('Mul', [rawScores, g.float32([1 / Math.sqrt(headDim)], [])]);
  const maskedScores = g.node('Add', [scores, bias]);
  const probabilities = g.node('Softmax', [maskedScores], { axis: -1 });
  const context = g.node('MatMul', [probabilities, values]); // [batch, kv, groups * seq, d]

  const perHead = g.node('Reshape', [context, g.int64([0, heads, -1, headDim])]); // [batch, heads, seq, d]
  const tokenMajor = g.node('Transpose', [perHead], { perm: [0, 2, 1, 3] });
  const merged = g.node('Reshape', [tokenMajor, g.int64([0, 0, heads * headDim])]);
  return g.scoped('o_proj', () => linear(ctx, merged, names.oProj, config.hidden_size, heads * headDim));
}

/** [batch, seq, heads * d] -> [batch, seq, heads, d]. */
function splitHeads(g: OnnxGraphBuilder, x: string, heads: number, headDim: number): string {
  return g.node('Reshape', [x, g.int64([0, 0, heads, headDim])]);
}

/** [batch, seq, heads, d] -> [batch, heads, seq, d]. */
function toHeadMajor(g: OnnxGraphBuilder, x: string): string {
  return g.node('Transpose', [x], { perm: [0, 2, 1, 3] });
}

/** x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x[d/2:], x[:d/2]). */
function applyRotary(ctx: GraphContext, x: string, rotary: RotaryTables): string {
  const { g } = ctx;
  const half = ctx.config.head_dim / 2;
  const [firstHalf, secondHalf] = g.nodeWithOutputs('Split', [x, g.int64([half, half])], 2, { axis: -1 });
  const rotated = g.node('Concat', [g.node('Neg', [secondHalf]), firstHalf], { axis: -1 });
  return g.node('Add', [g.node('Mul', [x, rotary.cos]), g.node('Mul', [rotated, rotary.sin])]);
}

/**
 * present = cat(past, new) on the sequence axis, also a graph output. In fp16 the concatenation happens
 * in float16 and attention reads the rounded cache back, so a step that reuses the cache sees the same
 * numbers as one that recomputes it.
 */
function appendToCache(ctx: GraphContext, past: string, current: string, presentName: string): string {
  const { g } = ctx;
  if (ctx.dtype !== 'fp16') return g.node('Concat', [past, current], { axis: 2 }, presentName);
  const currentHalf = g.node('Cast', [current], { to: DataType.FLOAT16 });
  const present = g.node('Concat', [past, currentHalf], { axis: 2 }, presentName);
  return g.node('Cast', [present], { to: DataType.FLOAT });
}

/** down(silu(gate(x)) * up(x)). */
function mlp(ctx: GraphContext, x: string, layer: number): string {
  const { g, config } = ctx;
  const names = qwen3LayerTensorNames(layer);
  const gate = g.scoped('gate_proj', () => linear(ctx, x, names.gateProj, config.intermediate_size, config.hidden_size));
  const up = g.scoped('up_proj', () => linear(ctx, x, names.upProj, config.intermediate_size, config.hidden_size));
  const activated = g.node('Mul', [gate, g.node('Sigmoid', [gate])]);
  const product = g.node('Mul', [activated, up]);
  return g.scoped('down_proj', () => linear(ctx, product, names.downProj, config.hidden_size, config.intermediate_size));
}

/**
 * Logits = norm(hidden) @ W^T with W `[vocab, hidden]`: the embedding itself when tied. Gemm's transB
 * reads W in place; a MatMul would need a transposed copy of the largest tensor in the model.
 */
function lmHead(ctx: GraphContext, hidden: string, embedding: string, inputIds: string): void {
  const { g, config } = ctx;
  const head = config.tie_word_embeddings ? embedding : storedWeight(ctx, QWEN3_LM_HEAD, [config.vocab_size, config.hidden_size]);
  const rows = g.node('Reshape', [hidden, g.int64([-1, config.hidden_size])]);
  const flatLogits = g.node('Gemm', [rows, head], { transB: 1 });
  // [batch, -1, vocab]: the head's rows decide the positions, so a graph that slices the hidden state before
  // the head (logits-to-keep.ts) still gets its logits in shape.
  const batch = g.node('Slice', [g.node('Shape', [inputIds]), g.int64([0]), g.int64([1])]);
  const logitsShape = g.node('Concat', [batch, g.int64([-1, config.vocab_size])], { axis: 0 });
  if (ctx.dtype !== 'fp16') {
    g.node('Reshape', [flatLogits, logitsShape], {}, 'logits');
    return;
  }
  g.node('Cast', [g.node('Reshape', [flatLogits, logitsShape])], { to: DataType.FLOAT16 }, 'logits');
}

/** x @ W^T for a torch Linear weight `[out, in]`, stored transposed (`[in, out]`) as exporters do. */
function linear(ctx: GraphContext, x: string, name: string, outFeatures: number, inFeatures: number): string {
  const torchShape = [outFeatures, inFeatures];
  const storedShape = [inFeatures, outFeatures];
  const storedLayout = (values: Float32Array) => transpose(values, outFeatures, inFeatures);
  if (ctx.dtype === 'int8') return quantizedLinear(ctx, x, { name, torchShape, storedShape, storedLayout });
  const weight = deferredWeight(ctx, name, torchShape, `${name}.transposed`, storedShape, storedLayout);
  return ctx.g.node('MatMul', [x, weight]);
}

interface LinearWeight {
  name: string;
  torchShape: number[];
  storedShape: number[];
  storedLayout: (values: Float32Array) => Float32Array;
}

/**
 * The int8 Linear as `quantize_dynamic` lays it out: MatMulInteger on the quantized activation and the int8
 * weight, Cast to float, times the product of the activation's and the column's scales.
 */
function quantizedLinear(ctx: GraphContext, x: string, weight: LinearWeight): string {
  const { g } = ctx;
  let activation = ctx.quantizedActivations.get(x);
  if (!activation) {
    const [quantized, scale, zeroPoint] = g.nodeWithOutputs('DynamicQuantizeLinear', [x], 3);
    activation = { quantized, scale, zeroPoint };
    ctx.quantizedActivations.set(x, activation);
  }
  const { values, scales, zeroPoints } = int8Weight(ctx, weight);
  const product = g.node('MatMulInteger', [activation.quantized, values, activation.zeroPoint, zeroPoints]);
  const scaleProduct = g.node('Mul', [activation.scale, scales]);
  return g.node('Mul', [g.node('Cast', [product], { to: DataType.FLOAT }), scaleProduct]);
}

/**
 * Symmetric int8 per output column (zero points 0, scale = largest magnitude / 127). The three initializers
 * come from one quantization, done when the writer first asks for any of them.
 */
function int8Weight(ctx: GraphContext, { name, torchShape, storedShape, storedLayout }: LinearWeight) {
  const [inFeatures, outFeatures] = storedShape;
  let quantized: { values: Int8Array; scales: Float32Array } | undefined;
  const quantize = () => {
    if (quantized) return quantized;
    const stored = storedLayout(ctx.weights.get(name, torchShape));
    const scales = new Float32Array(outFeatures);
    for (let i = 0; i < stored.length; i++) scales[i % outFeatures] = Math.max(scales[i % outFeatures], Math.abs(stored[i]));
    for (let column = 0; column < outFeatures; column++) scales[column] = scales[column] / 127 || 1;
    const values = Int8Array.from(stored, (value, i) => Math.round(value / scales[i % outFeatures]));
    return (quantized = { values, scales });
  };
  const initializer = (suffix: string, dataType: DataType, dims: number[], bytes: () => ArrayBufferView): DeferredInitializer => ({
    name: `${name}.${suffix}`,
    dataType,
    dims,
    byteLength: elementCount(dims) * bytesPerElement(dataType),
    bytes: () => {
      const view = bytes();
      return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    },
  });
  return {
    values: ctx.g.weight(initializer('quantized', DataType.INT8, [inFeatures, outFeatures], () => quantize().values)),
    scales: ctx.g.weight(initializer('scale', DataType.FLOAT, [outFeatures], () => quantize().scales)),
    zeroPoints: ctx.g.weight(initializer('zero_point', DataType.INT8, [outFeatures], () => new Int8Array(outFeatures))),
  };
}

/** A weight kept in its torch layout. */
function storedWeight(ctx: GraphContext, name: string, shape: number[]): string {
  return deferredWeight(ctx, name, shape, name, shape, (values) => values);
}

/**
 * Registers the deferred initializer and returns a float32 view of it: the initializer itself in fp32,
 * a Cast of the float16 initializer in fp16 (onnxruntime folds the Cast once at load time and then
 * computes in float32, as its CPU provider would anyway).
 */
function deferredWeight(
  ctx: GraphContext,
  sourceName: string,
  sourceShape: number[],
  storedName: string,
  storedDims: number[],
  layout: (values: Float32Array) => Float32Array,
): string {
  const { g, weights, dtype } = ctx;
  const dataType = dtype === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const initializer: DeferredInitializer = {
    name: storedName,
    dataType,
    dims: storedDims,
    byteLength: elementCount(storedDims) * bytesPerElement(dataType),
    bytes: () => {
      const values = weights.get(sourceName, sourceShape);
      if (values.length !== elementCount(sourceShape)) {
        throw new Error(`weight ${sourceName} has ${values.length} values, expected shape [${sourceShape.join(', ')}]`);
      }
      const laidOut = layout(values);
      const typed = dtype === 'fp16' ? toFloat16Bits(laidOut) : laidOut;
      // Raw data is little-endian; typed arrays use the platform order, little-endian on x86 and ARM.
      return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    },
  };
  const stored = g.weight(initializer);
  return dtype === 'fp16' ? g.node('Cast', [stored], { to: DataType.FLOAT }) : stored;
}

/** Row-major `[rows, cols]` -> `[cols, rows]`, in tiles to stay cache-friendly on large matrices. */
function transpose(values: Float32Array, rows: number, cols: number): Float32Array {
  const result = new Float32Array(values.length);
  const tile = 64;
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const rEnd = Math.min(r0 + tile, rows);
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const cEnd = Math.min(c0 + tile, cols);
      for (let r = r0; r < rEnd; r++) {
        for (let c = c0; c < cEnd; c++) result[c * rows + r] = values[r * cols + c];
      }
    }
  }
  return result;
}
