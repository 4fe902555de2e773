import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { DecoderConfig } from '../model-format/decoder-config';
import { DecoderSession, ForwardStep } from './decoder-session';
import { LogitsRow, positionLogits } from './logits';
import { readRewritten } from './model-rewrites';
import { ort } from './onnxruntime';
import { quantizeActivationsPerToken } from './per-token-int8';

jest.setTimeout(120_000);

/** optimum's layout with onnxruntime's `quantize_dynamic` int8 file (tools/reference-models/make_reference.py). */
const OPTIMUM_EXPORT = join(__dirname, '../../../test/fixtures/reference-models/qwen3-tiny/optimum');
const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const { FLOAT, INT8, UINT8 } = onnx.TensorProto.DataType;

const K = 8;
const N = 3;
/** Integers with a few outliers, so that rows' ranges differ widely. */
const WEIGHTS = Int8Array.from({ length: K * N }, (_, i) => ((i * 37) % 255) - 127);
const WEIGHT_SCALES = Float32Array.of(0.02, 0.05, 0.01);

/** y = x · W as `quantize_dynamic` writes it: a per-tensor activation quantizer, per-column int8 weights. */
function dynamicallyQuantizedProduct(): onnx.IModelProto {
  const tensor = (name: string, dataType: number, dims: number[], bytes: ArrayBufferView) => ({
    name,
    dataType,
    dims,
    rawData: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  });
  const node = (opType: string, input: string[], output: string[], attribute: onnx.IAttributeProto[] = []) => ({
    opType,
    name: output[0],
    input,
    output,
    attribute,
  });
  return {
    irVersion: 8,
    opsetImport: [{ version: 17 }],
    graph: {
      name: 'product',
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'rows' }, { dimValue: K }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: FLOAT } } }],
      initializer: [tensor('w', INT8, [K, N], WEIGHTS), tensor('w_zero_point', INT8, [N], new Int8Array(N)), tensor('w_scale', FLOAT, [N], WEIGHT_SCALES)],
      node: [
        node('DynamicQuantizeLinear', ['x'], ['x_quantized', 'x_scale', 'x_zero_point']),
        node('MatMulInteger', ['x_quantized', 'w', 'x_zero_point', 'w_zero_point'], ['product']),
        node('Cast', ['product'], ['product_float'], [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }]),
        node('Mul', ['x_scale', 'w_scale'], ['scales']),
        node('Mul', ['product_float', 'scales'], ['y']),
      ],
    },
  };
}

async function runProduct(model: onnx.IModelProto, rows: number[][]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
  try {
    const { y } = await session.run({ x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, K]) });
    return y.data as Float32Array;
  } finally {
    await session.release();
  }
}

function exactProduct(row: number[]): number[] {
  return Array.from({ length: N }, (_, n) => row.reduce((sum, value, k) => sum + value * WEIGHTS[k * N + n] * WEIGHT_SCALES[n], 0));
}

const SMALL_ROW = [0.01, -0.02, 0.03, 0.005, -0.01, 0.02, 0.0, 0.015];
const LARGE_ROW = [40, -3, 7, 12, -25, 1, 9, -31];

describe('quantizeActivationsPerToken on one product', () => {
  it('gives a row the result it gets alone, whatever rows share its pass; as exported it does not', async () => {
    const asExported = dynamicallyQuantizedProduct();
    const perToken = dynamicallyQuantizedProduct();
    expect(quantizeActivationsPerToken(perToken)).toEqual({ rewritten: 1 });

    const alone = await runProduct(perToken, [SMALL_ROW]);
    const withLargeRow = (await runProduct(perToken, [SMALL_ROW, LARGE_ROW])).subarray(0, N);
    expect([...withLargeRow]).toEqual([...alone]);

    const exportedAlone = await runProduct(asExported, [SMALL_ROW]);
    const exportedWithLargeRow = (await runProduct(asExported, [SMALL_ROW, LARGE_ROW])).subarray(0, N);
    expect(Math.max(...exportedAlone.map((value, n) => Math.abs(value - exportedWithLargeRow[n])))).toBeGreaterThan(1e-4);
  });

  it('stays within one quantization step of each row of the float product', async () => {
    const rows = [SMALL_ROW, LARGE_ROW];
    const model = dynamicallyQuantizedProduct();
    quantizeActivationsPerToken(model);
    const result = await runProduct(model, rows);
    rows.forEach((row, r) => {
      const step = Math.max(...row.map(Math.abs)) / 127;
      exactProduct(row).forEach((expected, n) => {
        const bound = (step / 2) * K * 127 * WEIGHT_SCALES[n];
        expect(Math.abs(result[r * N + n] - expected)).toBeLessThanOrEqual(bound);
      });
    });
  });

  it.each<[string, (model: onnx.IModelProto) => void, string]>([
    ['its scale read by another node', (model) => model.graph!.node!.push({ opType: 'Identity', input: ['x_scale'], output: ['z'] }), 'scale is read'],
    [
      'a float MatMul reading its output',
      (model) => model.graph!.node!.push({ opType: 'MatMul', name: 'other', input: ['x_quantized', 'w'], output: ['z'] }),
      'MatMul reads',
    ],
    ['its product not cast to float', (model) => (model.graph!.node![2].attribute![0].i = UINT8), 'Cast to float'],
  ])('leaves the whole model as exported with %s', (_, change, reason) => {
    const model = dynamicallyQuantizedProduct();
    change(model);
    const before = onnx.ModelProto.encode(model).finish();
    expect(quantizeActivationsPerToken(model)).toEqual({ skipped: expect.stringContaining(reason) });
    expect(onnx.ModelProto.encode(model).finish()).toEqual(before);
  });
});

describe('per-token int8 on an optimum int8 export', () => {
  // The fixture's tokenizer is linked in by the fidelity suite; a session needs the config alone.
  const directory = {
    onnxPath: join(OPTIMUM_EXPORT, 'onnx/model_quantized.onnx'),
    config: JSON.parse(readFileSync(join(OPTIMUM_EXPORT, 'config.json'), 'utf8')) as DecoderConfig & { vocab_size: number },
  };
  const sessions: Record<'perToken' | 'asExported', DecoderSession> = {} as never;

  beforeAll(async () => {
    const open = (perTokenInt8: boolean) =>
      DecoderSession.open({ onnxPath: directory.onnxPath, config: directory.config, provider: 'cpu', intraOpThreads: 1, logger: silent, perTokenInt8 });
    sessions.perToken = await open(true);
    sessions.asExported = await open(false);
  });
  afterAll(async () => {
    await Promise.all(Object.values(sessions).map((session) => session.close()));
  });

  it('takes logits_to_keep too, its slice moved before the LM head quantizer', async () => {
    const warnings: string[] = [];
    const logger = { ...silent, log: (line: string) => warnings.push(line), warn: (line: string) => warnings.push(line) };
    const both = await DecoderSession.open({
      onnxPath: directory.onnxPath,
      config: directory.config,
      provider: 'cpu',
      intraOpThreads: 1,
      logger,
      logitsToKeep: true,
      perTokenInt8: true,
    });
    try {
      expect(warnings).toEqual([]);
      expect(both.io.logitsToKeep).toBe(true);
      expect(both.applied.perTokenQuantizers).toBe(sessions.perToken.applied.perTokenQuantizers);
      const { rewritten } = readRewritten(directory.onnxPath, { logitsToKeep: true, perTokenInt8: true });
      const nodes = onnx.ModelProto.decode(rewritten!.model).graph!.node!;
      const slice = nodes.find((node) => node.opType === 'Slice' && node.input![1] === 'logits_to_keep/starts')!;
      expect(nodes.find((node) => node.output!.includes(slice.input![0]))?.opType).not.toBe('QuantizeLinear');
    } finally {
      await both.close();
    }
  });

  it('rewrites every activation quantizer of the file', () => {
    const { rewritten, applied } = readRewritten(directory.onnxPath, { logitsToKeep: false, perTokenInt8: true });
    const { perTokenQuantizers } = applied;
    const nodes = onnx.ModelProto.decode(rewritten!.model).graph!.node!;
    expect(perTokenQuantizers).toBeGreaterThan(0);
    expect(nodes.filter((node) => node.opType === 'DynamicQuantizeLinear')).toHaveLength(0);
    expect(nodes.filter((node) => node.opType === 'QuantizeLinear')).toHaveLength(perTokenQuantizers);
    expect(sessions.perToken.applied.perTokenQuantizers).toBe(perTokenQuantizers);
    expect(sessions.asExported.applied.perTokenQuantizers).toBe(0);
  });

  /** A text's last position: alone, beside another text in one batch, and fed in two passes. */
  async function lastPositionThreeWays(session: DecoderSession): Promise<LogitsRow[]> {
    const text = [9n, 14n, 3n, 27n, 5n, 11n];
    const other = [40n, 2n, 33n, 17n, 8n, 21n];
    const step = (rows: bigint[][], past = 0): ForwardStep => ({
      batch: rows.length,
      sequenceLength: rows[0].length,
      inputIds: BigInt64Array.from(rows.flat()),
      attentionMask: new BigInt64Array(rows.length * (past + rows[0].length)).fill(1n),
      positionIds: BigInt64Array.from(rows.flatMap((row) => row.map((_, i) => BigInt(past + i)))),
    });
    const alone = await session.forward(step([text]), session.emptyCache(1));
    const paired = await session.forward(step([text, other]), session.emptyCache(2));
    const head = await session.forward(step([text.slice(0, 4)]), session.emptyCache(1));
    const tail = await session.forward(step([text.slice(4)], 4), head.cache);
    for (const { cache } of [alone, paired, tail]) session.discard(cache);
    return [positionLogits(alone.logits, 0, 5), positionLogits(paired.logits, 0, 5), positionLogits(tail.logits, 0, 1)];
  }

  function largestDifference(a: LogitsRow, b: LogitsRow, vocab: number): number {
    let largest = 0;
    for (let id = 0; id < vocab; id++) largest = Math.max(largest, Math.abs(a(id) - b(id)));
    return largest;
  }

  it('gives a text the same logits alone, beside another text and split over two passes; as exported it does not', async () => {
    const vocab = directory.config.vocab_size;
    const [alone, paired, split] = await lastPositionThreeWays(sessions.perToken);
    // float32 rounding of kernels that take other paths for other row counts; a scale change moves whole steps.
    expect(largestDifference(alone, paired, vocab)).toBeLessThan(1e-5);
    expect(largestDifference(alone, split, vocab)).toBeLessThan(1e-5);

    const [exportedAlone, exportedPaired, exportedSplit] = await lastPositionThreeWays(sessions.asExported);
    expect(Math.max(largestDifference(exportedAlone, exportedPaired, vocab), largestDifference(exportedAlone, exportedSplit, vocab))).toBeGreaterThan(1e-3);
  });
});
