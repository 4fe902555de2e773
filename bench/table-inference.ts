/**
 * Markdown tables from inference benchmark results, for docs/performance.md: every cell, then per text length
 * and mode the latency ratios against (a) at concurrency 1 (llama.cpp's two paths, (d), included), (a)'s
 * throughput at concurrency 4 and 16 against concurrency 1, and its prefill rate against the run's GEMM limit
 * of its precision (int8 files against the int8 limit where the run measured one).
 *
 *   npx tsx bench/table-inference.ts bench/results/inference-<...>.json [more results ...]
 *
 * Several files (runs of different lengths or dtypes) are read in order; a cell measured twice keeps the last.
 */
import { GemmLimit } from './gemm-limit';
import { InferenceCell, InferenceResults, readInferenceResults } from './support/inference-results';

const INT8_DTYPES = new Set(['quantized', 'int8']);

/** The limit a cell's prefill is a share of: int8 for the int8 files, when the run measured it. */
function limitFor(result: InferenceResults, dtype: string): GemmLimit {
  return INT8_DTYPES.has(dtype) && result.gemmInt8 ? result.gemmInt8 : result.gemm;
}

const key = (c: { system: string; dtype: string; textTokens: number; mode: string; concurrency: number }) =>
  `${c.system} ${c.dtype} ${c.textTokens} ${c.mode} ${c.concurrency}`;
const ratio = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}x`);

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: table-inference.ts <results.json> [...]');
  const cells = new Map<string, InferenceCell & { gemmBest: number; gemmPrecision: string }>();
  for (const file of files) {
    const result = readInferenceResults(file);
    // Files from before the engine could trim its LM head have no lmHead: it ran on every position then.
    const heads = new Set(
      result.cells.filter((cell) => cell.system === 'a-engine').map((cell) => (cell.lmHead === 'kept-positions' ? 'the positions read' : 'every position')),
    );
    console.log(
      `- \`${file}\`: ${result.date}, commit \`${result.commit}\`, GEMM limit best ${result.gemm.bestGflops.toFixed(1)} GFLOP/s (median ${result.gemm.medianGflops.toFixed(1)}), ` +
        (result.gemmInt8 ? `int8 limit best ${result.gemmInt8.bestGflops.toFixed(1)} GOP/s (median ${result.gemmInt8.medianGflops.toFixed(1)}), ` : '') +
        (result.load ? `load ${result.load.start.join(' / ')}${result.load.end ? ` → ${result.load.end.join(' / ')}` : ''}, ` : '') +
        `(a)'s LM head on ${[...heads].join(' / ')}${result.complete === false ? ', **interrupted** (the cells it finished)' : ''}`,
    );
    for (const [dtype, llama] of Object.entries(result.llamaCpp?.byDtype ?? {})) {
      console.log(
        `  - (d) ${dtype}: node-llama-cpp ${llama.nodeLlamaCpp}, llama.cpp ${llama.llamaCpp} (${llama.binary}), ${llama.gguf.split('/').pop()}, ` +
          `threads ${llama.threads}, batch ${llama.batchSize}, flash attention ${String(llama.flashAttention)}, KV cache ${llama.kvCache ?? 'F16'}, context ${llama.contextSize}`,
      );
    }
    for (const cell of result.cells) {
      const limit = limitFor(result, cell.dtype);
      cells.set(key(cell), { ...cell, gemmBest: limit.bestGflops, gemmPrecision: limit.precision ?? 'fp32' });
    }
  }
  const all = [...cells.values()];

  console.log(
    '\n| dtype | text tokens | mode | system | concurrency | requests | p50 ms | p95 ms | req/s | prefill GFLOP/s (% of the GEMM limit) | tokens generated |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of all) {
    const prefill =
      c.prefillGflops === undefined ? '–' : `${c.prefillGflops.toFixed(1)} (${Math.round((100 * c.prefillGflops) / c.gemmBest)} % of ${c.gemmPrecision})`;
    console.log(
      `| ${c.dtype} | ${c.textTokens} | ${c.mode} | ${c.system} | ${c.concurrency} | ${c.requests} | ${Math.round(c.p50Ms)} | ${Math.round(c.p95Ms)} | ${c.throughputPerSecond.toFixed(2)} | ${prefill} | ${c.answerTokens?.toFixed(1) ?? '–'} |`,
    );
  }

  console.log(
    '\n| dtype | text tokens | mode | (b)/(a) p50 | (c)/(a) p50 | (d) llama.cpp, prefix kept / (a) p50 | (d) llama.cpp plain / (a) p50 | (a) req/s c4 / c1 | (a) req/s c16 / c1 |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const groups = [...new Set(all.filter((c) => c.system === 'a-engine' && c.concurrency === 1).map((c) => `${c.dtype} ${c.textTokens} ${c.mode}`))];
  for (const group of groups) {
    const [dtype, tokens, mode] = group.split(' ');
    const at = (system: string, concurrency: number) => cells.get(key({ system, dtype, textTokens: Number(tokens), mode, concurrency }));
    const a1 = at('a-engine', 1)!;
    const over = (system: string) => (at(system, 1) ? at(system, 1)!.p50Ms / a1.p50Ms : undefined);
    const scaling = (concurrency: number) =>
      at('a-engine', concurrency) ? at('a-engine', concurrency)!.throughputPerSecond / a1.throughputPerSecond : undefined;
    console.log(
      `| ${dtype} | ${tokens} | ${mode} | ${ratio(over('b-plain-greedy'))} | ${ratio(over('c-transformers-js'))} | ${ratio(over('d-llama-cpp'))} | ` +
        `${ratio(over('d-llama-cpp-plain'))} | ${ratio(scaling(4))} | ${ratio(scaling(16))} |`,
    );
  }
}

main();
