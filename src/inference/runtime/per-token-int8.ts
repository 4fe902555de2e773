import { onnx } from 'onnx-proto';
import { GraphReaders, consumersOf, int64Values, intAttribute, onlyReader, producersOf } from './graph-index';

/**
 * Dynamically quantized int8 exports (onnxruntime's `quantize_dynamic`, optimum's `model_quantized.onnx`)
 * quantize each MatMul's activations with one scale and zero point over the whole tensor a pass carries
 * (`DynamicQuantizeLinear`): every token's numbers then depend on the other tokens of the pass, so one text's
 * logits change with its batch mates, with how a prompt is chunked, and between a speculative pass and
 * token-by-token decoding, enough to tip near-ties. This rewrite gives every row (token) its own scale instead:
 *
 *   unit = x / max(|x|) over the row;  q = round(127 · unit) + 128;  y = (q - 128) · W_int8 · w_scale / 127 · max(|x|)
 *
 * onnxruntime's CPU MatMulInteger takes only a scalar zero point for its left input, so the row scale is taken
 * out before quantizing (symmetric around the fixed zero point 128) and put back after the product. A token's
 * result then depends on its own row only: the integer product is exact whatever the pass holds, and what
 * follows is float32 arithmetic per element.
 *
 * The product runs as `MatMulIntegerToFloat` (com.microsoft), the kernel onnxruntime's CPU provider fuses the
 * original pattern into; the rewrite is therefore for the CPU provider only.
 */

/** Where the rewrite's constants and nodes are named; a second rewrite of the same model finds it done. */
const PREFIX = 'per_token_int8';
const STEP = `${PREFIX}/step`;
const ZERO_POINT = `${PREFIX}/zero_point`;
const TINY = `${PREFIX}/tiny`;
const LAST_AXIS = `${PREFIX}/last_axis`;
/** ReduceMax takes its axes as an input from opset 18 on, as an attribute before. */
const AXES_AS_INPUT_OPSET = 18;
const MS_DOMAIN = 'com.microsoft';
const { FLOAT, UINT8, INT64 } = onnx.TensorProto.DataType;

export type PerTokenRewrite = { rewritten: number } | { skipped: string };

/** One `MatMulInteger → Cast → Mul(scale product)` chain that reads a quantizer's output. */
interface QuantizedProduct {
  matMul: onnx.INodeProto;
  cast: onnx.INodeProto;
  scaleProduct: onnx.INodeProto;
  output: onnx.INodeProto;
  weightScale: string;
}

interface QuantizerPlan {
  quantizer: onnx.INodeProto;
  /**
   * A Slice that keeps some rows of the quantized tensor for every product (logits-to-keep.ts puts one before
   * the LM head). Quantized per token, a row does not depend on the others, so the Slice moves before the
   * quantizer and only the kept rows are quantized.
   */
  rowSlice?: onnx.INodeProto;
  products: QuantizedProduct[];
}

/**
 * Rewrites every `DynamicQuantizeLinear` of a decoded model to per-token scales, or none of them (a model half
 * rewritten would still mix tokens): `{ rewritten: 0 }` for a model without any, `skipped` when one is not
 * followed by the pattern `quantize_dynamic` writes.
 */
export function quantizeActivationsPerToken(model: onnx.IModelProto): PerTokenRewrite {
  const graph = model.graph;
  if (!graph?.node) return { skipped: 'it has no graph' };
  if (graph.initializer?.some((tensor) => tensor.name === STEP)) return { skipped: 'it is already rewritten' };
  const consumers = consumersOf(graph.node);
  const producers = producersOf(graph.node);
  const graphOutputs = new Set((graph.output ?? []).map((output) => output.name!));
  const initializers = new Map((graph.initializer ?? []).map((tensor) => [tensor.name!, tensor]));
  const plans: QuantizerPlan[] = [];
  for (const quantizer of graph.node.filter((node) => node.opType === 'DynamicQuantizeLinear' && !node.domain)) {
    const plan = planQuantizer(quantizer, { consumers, producers, graphOutputs, initializers });
    if (typeof plan === 'string') return { skipped: `${quantizer.name || quantizer.output?.[0]}: ${plan}` };
    plans.push(plan);
  }
  if (plans.length === 0) return { rewritten: 0 };

  const opset = Number(model.opsetImport?.find((entry) => !entry.domain || entry.domain === 'ai.onnx')?.version ?? 0);
  const replaced = new Map<onnx.INodeProto, onnx.INodeProto[]>();
  const removed = new Set<onnx.INodeProto>();
  for (const [index, { quantizer, rowSlice, products }] of plans.entries()) {
    const rowMax = `${PREFIX}/${index}/row_max`;
    const chain = perTokenQuantizer(quantizer, rowMax, opset, `${PREFIX}/${index}`);
    if (rowSlice) {
      // The slice now keeps rows of the float input, and the products read the quantizer's output directly.
      const keptRows = `${PREFIX}/${index}/kept_rows`;
      const floatSlice = { ...rowSlice, input: [quantizer.input![0], ...rowSlice.input!.slice(1)], output: [keptRows] };
      chain.forEach((node) => (node.input = node.input!.map((input) => (input === quantizer.input![0] ? keptRows : input))));
      replaced.set(quantizer, [floatSlice, ...chain]);
      removed.add(rowSlice);
    } else {
      replaced.set(quantizer, chain);
    }
    for (const product of products) {
      replaced.set(product.output, rescaledProduct(product, quantizer.output![0], rowMax));
      removed.add(product.matMul).add(product.cast).add(product.scaleProduct);
    }
  }
  graph.node = graph.node.filter((node) => !removed.has(node)).flatMap((node) => replaced.get(node) ?? [node]);
  graph.initializer = [...(graph.initializer ?? []), ...constants(opset)];
  if (!model.opsetImport?.some((entry) => entry.domain === MS_DOMAIN)) {
    model.opsetImport = [...(model.opsetImport ?? []), { domain: MS_DOMAIN, version: 1 }];
  }
  return { rewritten: plans.length };
}

interface GraphIndex extends GraphReaders {
  producers: Map<string, onnx.INodeProto>;
  initializers: Map<string, onnx.ITensorProto>;
}

/** The products a quantizer feeds, or why its outputs are used some other way. */
function planQuantizer(quantizer: onnx.INodeProto, index: GraphIndex): QuantizerPlan | string {
  const [quantized, scale, zeroPoint] = quantizer.output ?? [];
  if (!quantized || !scale || !zeroPoint) return 'not all three outputs are used';
  if ([quantized, scale, zeroPoint].some((name) => index.graphOutputs.has(name))) return 'an output of it is a graph output';
  let readers = index.consumers.get(quantized) ?? [];
  const rowSlice = readers.length === 1 && readers[0].opType === 'Slice' ? readers[0] : undefined;
  if (rowSlice) {
    if (!slicesRowsOnly(rowSlice, index)) return `${rowSlice.name} slices more than its rows`;
    readers = index.consumers.get(rowSlice.output![0]) ?? [];
  }
  const rows = rowSlice?.output![0] ?? quantized;
  const products: QuantizedProduct[] = [];
  for (const matMul of readers) {
    const product = planProduct(matMul, rows, zeroPoint, scale, index);
    if (typeof product === 'string') return product;
    products.push(product);
  }
  const expectedScaleReaders = products.map((product) => product.scaleProduct);
  if (!sameNodes(index.consumers.get(scale) ?? [], expectedScaleReaders)) return 'its scale is read by more than the products';
  if (!sameNodes(index.consumers.get(zeroPoint) ?? [], readers)) return 'its zero point is read by more than the products';
  return { quantizer, ...(rowSlice && { rowSlice }), products };
}

/** A Slice on the batch and sequence axes alone (constant axes 0 or 1), so every kept row is whole. */
function slicesRowsOnly(slice: onnx.INodeProto, index: GraphIndex): boolean {
  const axes = int64Values(index.initializers.get(slice.input?.[3] ?? ''));
  if (!axes || index.graphOutputs.has(slice.output![0])) return false;
  return axes.length > 0 && axes.every((axis) => axis === 0n || axis === 1n);
}

function planProduct(matMul: onnx.INodeProto, quantized: string, zeroPoint: string, scale: string, index: GraphIndex): QuantizedProduct | string {
  const inputs = matMul.input ?? [];
  if (matMul.opType !== 'MatMulInteger' || matMul.domain) return `${matMul.opType} reads its quantized output`;
  if (inputs[0] !== quantized || inputs[2] !== zeroPoint) return `${matMul.name} does not take it as its left input with its zero point`;
  const cast = onlyReader(index, matMul.output![0]);
  if (cast?.opType !== 'Cast' || attribute(cast, 'to') !== FLOAT) return `${matMul.name} is not followed by a Cast to float`;
  const output = onlyReader(index, cast.output![0]);
  const scaleName = output?.opType === 'Mul' ? output.input!.find((input) => input !== cast.output![0]) : undefined;
  const scaleProduct = scaleName === undefined ? undefined : index.producers.get(scaleName);
  if (!output || !scaleProduct || scaleProduct.opType !== 'Mul' || !scaleProduct.input!.includes(scale)) {
    return `${matMul.name} is not scaled by the product of its two scales`;
  }
  if (onlyReader(index, scaleProduct.output![0]) !== output) return `${scaleProduct.name} is read elsewhere`;
  const weightScale = scaleProduct.input!.find((input) => input !== scale);
  if (weightScale === undefined) return `${scaleProduct.name} squares the activation scale`;
  return { matMul, cast, scaleProduct, output, weightScale };
}

/** x → its row maximum (kept for the rescale) and the row quantized around the fixed zero point. */
function perTokenQuantizer(quantizer: onnx.INodeProto, rowMax: string, opset: number, scope: string): onnx.INodeProto[] {
  const x = quantizer.input![0];
  const magnitude = `${scope}/abs`;
  const reduced = `${scope}/reduce_max`;
  const unit = `${scope}/unit`;
  const reduceMax: onnx.INodeProto =
    opset >= AXES_AS_INPUT_OPSET
      ? { opType: 'ReduceMax', name: reduced, input: [magnitude, LAST_AXIS], output: [reduced], attribute: [intAttribute('keepdims', 1)] }
      : { opType: 'ReduceMax', name: reduced, input: [magnitude], output: [reduced], attribute: [intAttribute('keepdims', 1), intsAttribute('axes', [-1])] };
  return [
    { opType: 'Abs', name: magnitude, input: [x], output: [magnitude] },
    reduceMax,
    // An all-zero row divides by a tiny number instead of zero: it quantizes to zeros, as it should.
    { opType: 'Max', name: rowMax, input: [reduced, TINY], output: [rowMax] },
    { opType: 'Div', name: unit, input: [x, rowMax], output: [unit] },
    { opType: 'QuantizeLinear', name: quantizer.name ?? `${scope}/quantize`, input: [unit, STEP, ZERO_POINT], output: [quantizer.output![0]] },
  ];
}

/** The fused integer product on the unit rows, then each row's maximum put back. */
function rescaledProduct(product: QuantizedProduct, quantized: string, rowMax: string): onnx.INodeProto[] {
  const { matMul, output, weightScale } = product;
  const weightZeroPoint = matMul.input![3] ?? '';
  const unitResult = `${output.output![0]}/unit_rows`;
  return [
    {
      opType: 'MatMulIntegerToFloat',
      domain: MS_DOMAIN,
      name: matMul.name,
      input: [quantized, matMul.input![1], STEP, weightScale, ZERO_POINT, weightZeroPoint],
      output: [unitResult],
    },
    { opType: 'Mul', name: output.name, input: [unitResult, rowMax], output: [output.output![0]] },
  ];
}

function constants(opset: number): onnx.ITensorProto[] {
  const scalars: onnx.ITensorProto[] = [
    { name: STEP, dataType: FLOAT, dims: [], rawData: bytes(Float32Array.of(1 / 127)) },
    { name: ZERO_POINT, dataType: UINT8, dims: [], rawData: Uint8Array.of(128) },
    { name: TINY, dataType: FLOAT, dims: [], rawData: bytes(Float32Array.of(1e-30)) },
  ];
  if (opset >= AXES_AS_INPUT_OPSET) scalars.push({ name: LAST_AXIS, dataType: INT64, dims: [1], rawData: bytes(BigInt64Array.of(-1n)) });
  return scalars;
}

function sameNodes(actual: onnx.INodeProto[], expected: onnx.INodeProto[]): boolean {
  return actual.length === expected.length && expected.every((node) => actual.includes(node));
}

function attribute(node: onnx.INodeProto, name: string): number | undefined {
  const found = node.attribute?.find((entry) => entry.name === name);
  return found?.i === undefined || found.i === null ? undefined : Number(found.i);
}

function intsAttribute(name: string, values: number[]): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

function bytes(values: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
