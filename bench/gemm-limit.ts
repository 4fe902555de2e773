import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort } from '../src/inference';
import { DataType, OnnxGraphBuilder } from '../src/synthetic-model/onnx-graph-builder';
import { writeOnnxModel } from '../src/synthetic-model/onnx-model-file';

/**
 * fp32: one MatMul of two inputs (as this probe has always measured it). int8: what our quantized export (tools/reference-models/quantize_int8.py, onnxruntime's
 * dynamic quantization) runs for every weight matrix: DynamicQuantizeLinear on the float activation (to uint8,
 * scale and zero point computed on the fly), then MatMulInteger against the int8 weight with its per-column
 * zero points, int32 out, cast to float and rescaled by the two scales' product: the same five nodes, so
 * onnxruntime's graph optimizer can fuse them as it fuses the model's (DynamicQuantizeMatMul).
 */
export type GemmPrecision = 'fp32' | 'int8';

export interface GemmLimit {
  precision?: GemmPrecision;
  m: number;
  k: number;
  n: number;
  bestGflops: number;
  medianGflops: number;
}

function gemmGraph(precision: GemmPrecision, m: number, k: number, n: number): OnnxGraphBuilder {
  const graph = new OnnxGraphBuilder();
  const a = graph.input('a', DataType.FLOAT, [m, k]);
  if (precision === 'fp32') {
    const b = graph.input('b', DataType.FLOAT, [k, n]);
    graph.node('MatMul', [a, b], {}, 'c');
    graph.output('c', DataType.FLOAT, [m, n]);
    return graph;
  }
  // The weight, its zero points and scales are initializers, as in the model: onnxruntime prepacks constant weights.
  const constant = (name: string, dataType: DataType, dims: number[], data: Int8Array | Float32Array) =>
    graph.weight({ name, dataType, dims, byteLength: data.byteLength, bytes: () => new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
  const b = constant(
    'b',
    DataType.INT8,
    [k, n],
    Int8Array.from({ length: k * n }, (_, i) => (i % 255) - 127),
  );
  const bZeroPoint = constant('b_zero_point', DataType.INT8, [n], new Int8Array(n));
  const bScale = constant('b_scale', DataType.FLOAT, [n], new Float32Array(n).fill(1 / 127));
  const [aQuantized, aScale, aZeroPoint] = graph.nodeWithOutputs('DynamicQuantizeLinear', [a], 3);
  const scale = graph.node('Mul', [aScale, bScale]);
  const product = graph.node('MatMulInteger', [aQuantized, b, aZeroPoint, bZeroPoint]);
  graph.node('Mul', [graph.node('Cast', [product], { to: DataType.FLOAT }), scale], {}, 'c');
  graph.output('c', DataType.FLOAT, [m, n]);
  return graph;
}

function gemmFeeds(precision: GemmPrecision, m: number, k: number, n: number): Record<string, ort.Tensor> {
  const a = new ort.Tensor(
    'float32',
    Float32Array.from({ length: m * k }, (_, i) => (i % 7) / 7 - 0.4),
    [m, k],
  );
  if (precision === 'fp32') {
    return {
      a,
      b: new ort.Tensor(
        'float32',
        Float32Array.from({ length: k * n }, (_, i) => (i % 5) / 5),
        [k, n],
      ),
    };
  }
  return { a };
}

/**
 * The machine's own ceiling for the engine: the best matrix-multiply rate onnxruntime reaches on this CPU,
 * through the same runtime and thread settings, for a GEMM as large as a prefill's, in float32 or in the
 * int8 scheme of the quantized export (a multiply-add counts 2 operations in both).
 *
 * Timed by the clock, not by a count: one int8 product takes a few milliseconds, and a probe of 8 of them
 * after one warm-up read 740–1,740 GOP/s on the same AMX machine within minutes, where 3 seconds of them read
 * 2,100–2,200 (the cores' clock and AMX state take a while to settle). An underestimated limit overstates
 * every share of it.
 */
export async function measureGemmLimit(
  options: { precision?: GemmPrecision; m?: number; k?: number; n?: number; warmUpSeconds?: number; seconds?: number; threads?: number } = {},
): Promise<GemmLimit> {
  const { precision = 'fp32', m = 1024, k = 1024, n = 3072, warmUpSeconds = 1, seconds = 3, threads = 0 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'gemm-'));
  try {
    const path = join(dir, 'gemm.onnx');
    writeOnnxModel(path, gemmGraph(precision, m, k, n).build('gemm'));
    const session = await ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    });
    const feeds = gemmFeeds(precision, m, k, n);
    await timedRuns(() => session.run(feeds), warmUpSeconds);
    const rates = (await timedRuns(() => session.run(feeds), seconds)).map((runSeconds) => (2 * m * k * n) / runSeconds / 1e9);
    await session.release();
    rates.sort((x, y) => x - y);
    return { precision, m, k, n, bestGflops: rates[rates.length - 1], medianGflops: rates[Math.floor(rates.length / 2)] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `run` back to back for `seconds` (at least once) and returns each run's duration in seconds. */
async function timedRuns(run: () => Promise<unknown>, seconds: number): Promise<number[]> {
  const durations: number[] = [];
  const until = performance.now() + seconds * 1000;
  do {
    const started = performance.now();
    await run();
    durations.push((performance.now() - started) / 1000);
  } while (performance.now() < until);
  return durations;
}

if (require.main === module) {
  void (async () => {
    for (const precision of ['fp32', 'int8'] as const) console.log(JSON.stringify(await measureGemmLimit({ precision })));
  })();
}
