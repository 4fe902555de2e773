import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort } from '../src/inference';
import { DataType, OnnxGraphBuilder } from '../src/synthetic-model/onnx-graph-builder';
import { writeOnnxModel } from '../src/synthetic-model/onnx-model-file';

export interface GemmLimit {
  m: number;
  k: number;
  n: number;
  bestGflops: number;
  medianGflops: number;
}

/**
 * The machine's own ceiling for the engine: the best float32 matrix-multiply rate onnxruntime reaches on
 * this CPU, through the same runtime and thread settings, for a GEMM as large as a prefill's.
 */
export async function measureGemmLimit(options: { m?: number; k?: number; n?: number; runs?: number; threads?: number } = {}): Promise<GemmLimit> {
  const { m = 1024, k = 1024, n = 3072, runs = 8, threads = 0 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'gemm-'));
  try {
    const graph = new OnnxGraphBuilder();
    const a = graph.input('a', DataType.FLOAT, [m, k]);
    const b = graph.input('b', DataType.FLOAT, [k, n]);
    graph.node('MatMul', [a, b], {}, 'c');
    graph.output('c', DataType.FLOAT, [m, n]);
    const path = join(dir, 'gemm.onnx');
    writeOnnxModel(path, graph.build('gemm'));
    const session = await ort.InferenceSession.create(path, {
      executionProviders: ['cpu'],
      ...(threads > 0 ? { intraOpNumThreads: threads } : {}),
    });
    const feeds = {
      a: new ort.Tensor(
        'float32',
        Float32Array.from({ length: m * k }, (_, i) => (i % 7) / 7),
        [m, k],
      ),
      b: new ort.Tensor(
        'float32',
        Float32Array.from({ length: k * n }, (_, i) => (i % 5) / 5),
        [k, n],
      ),
    };
    await session.run(feeds); // warm-up
    const rates: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await session.run(feeds);
      rates.push((2 * m * k * n) / ((performance.now() - started) / 1000) / 1e9);
    }
    await session.release();
    rates.sort((x, y) => x - y);
    return { m, k, n, bestGflops: rates[rates.length - 1], medianGflops: rates[Math.floor(rates.length / 2)] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  void measureGemmLimit().then((limit) => console.log(JSON.stringify(limit)));
}
