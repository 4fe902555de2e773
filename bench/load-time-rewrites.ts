/**
 * What a load-time graph rewrite costs or saves per verdict (src/inference/runtime/: per-token int8 activation
 * scales, the CPU default for int8 files, against the export's per-pass scales; grouped attention, which reads
 * each KV head once, against attention as exported; a finite attention mask without softmax's NaN guard, against
 * the export's -inf mask and guard). Both engines are loaded side by side and every text runs
 * on each in turn, alternating which goes first, so a machine whose speed drifts slows both alike; medians are
 * reported, with the load average, and how many texts the two answered differently.
 *
 *   npx tsx bench/load-time-rewrites.ts --rewrite int8-activations|grouped-attention|finite-attention-mask [--model models/qwen3guard-gen-0.6b-synthetic]
 *       [--dtype quantized] [--length 16 ...] [--texts 4] [--rounds 3]
 *
 * Writes bench/results/<int8-activation-scales|grouped-attention|finite-attention-mask>-<date>T<hhmm>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { MODEL_DTYPES, ModelDtype, OnnxEngineOptions, OnnxModerationEngine, PromptEncoder, Verdict, readModelDirectory } from '../src/inference';
import { conversation } from './support/bench-texts';
import { runProvenance } from './support/inference-results';
import { percentile } from './support/service-process';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Each rewrite's two engines (the rewrite first) and its result files' name. */
const REWRITES: Record<string, { variants: Record<string, Partial<OnnxEngineOptions>>; results: string }> = {
  'int8-activations': {
    variants: { 'per-token': { int8Activations: 'per-token' }, 'per-pass': { int8Activations: 'per-pass' } },
    results: 'int8-activation-scales',
  },
  'grouped-attention': { variants: { grouped: { groupedAttention: true }, 'as-exported': { groupedAttention: false } }, results: 'grouped-attention' },
  'finite-attention-mask': {
    variants: { finite: { finiteAttentionMask: true }, 'as-exported': { finiteAttentionMask: false } },
    results: 'finite-attention-mask',
  },
};

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      rewrite: { type: 'string' },
      model: { type: 'string', default: 'models/qwen3guard-gen-0.6b-synthetic' },
      dtype: { type: 'string', default: 'quantized' },
      length: { type: 'string', multiple: true, default: ['16', '64', '256', '1024'] },
      texts: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const rewrite = REWRITES[values.rewrite ?? ''];
  if (!rewrite) throw new Error(`--rewrite must be one of ${Object.keys(REWRITES).join(', ')}`);
  if (!(MODEL_DTYPES as readonly string[]).includes(values.dtype)) throw new Error(`--dtype must be one of ${MODEL_DTYPES.join(', ')}`);
  return {
    rewrite: { name: values.rewrite!, ...rewrite },
    model: resolve(values.model),
    dtype: values.dtype as ModelDtype,
    lengths: values.length.map(Number),
    texts: Number(values.texts),
    rounds: Number(values.rounds),
    out: values.out,
  };
}

const answerOf = (verdict: Verdict) => JSON.stringify([verdict.safetyLevel, verdict.categories, verdict.refusal]);

async function main(): Promise<void> {
  const options = parseCommandLine();
  const directory = readModelDirectory(options.model, options.dtype);
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const variants = Object.keys(options.rewrite.variants);
  const engines: Record<string, OnnxModerationEngine> = {};
  for (const variant of variants) {
    // As `npm run bench` runs (a): the answer format imposed on random weights, one request at a time.
    engines[variant] = new OnnxModerationEngine(
      {
        modelDir: options.model,
        dtype: options.dtype,
        provider: 'cpu',
        maxNewTokens: 64,
        demo: false,
        verifyAnswerFormat: false,
        batching: { maxBatch: 1 },
        ...options.rewrite.variants[variant],
      },
      silent,
    );
    await engines[variant].load();
  }
  const started = new Date().toISOString();
  const provenance = runProvenance();
  const file = join(options.out, `${options.rewrite.results}-${started.slice(0, 16).replace(':', '')}.json`);
  mkdirSync(options.out, { recursive: true });
  const cells: Array<Record<string, unknown>> = [];
  const write = (complete: boolean) =>
    writeFileSync(
      file,
      JSON.stringify(
        {
          date: started,
          complete,
          ...provenance,
          rewrite: options.rewrite.name,
          model: options.model,
          dtype: options.dtype,
          rounds: options.rounds,
          cells,
        },
        null,
        2,
      ) + '\n',
    );

  for (const tokens of options.lengths) {
    for (const mode of ['prompt', 'response'] as const) {
      const texts = Array.from({ length: options.texts }, (_, seed) => conversation(encoder, mode, tokens, seed));
      const latencies: Record<string, number[]> = Object.fromEntries(variants.map((variant) => [variant, []]));
      const answers: Record<string, string[]> = Object.fromEntries(variants.map((variant) => [variant, []]));
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? variants : [...variants].reverse();
        for (const messages of texts) {
          for (const variant of order) {
            const t = performance.now();
            const [verdict] = await engines[variant].moderate([{ messages }]);
            latencies[variant].push(performance.now() - t);
            if (round === 0) answers[variant].push(answerOf(verdict));
          }
        }
      }
      const [rewritten, baseline] = variants;
      const medianMs = Object.fromEntries(variants.map((variant) => [variant, percentile(latencies[variant], 50)]));
      const cell = {
        tokens,
        mode,
        medianMs,
        ratio: medianMs[rewritten] / medianMs[baseline],
        answeredDifferently: answers[rewritten].filter((answer, i) => answer !== answers[baseline][i]).length,
        texts: texts.length,
        loadAverage: loadavg()[0],
      };
      cells.push(cell);
      write(false);
      console.log(
        `${tokens} tokens ${mode}: ${variants.map((variant) => `${variant} ${medianMs[variant].toFixed(0)} ms`).join(', ')}, ` +
          `${cell.ratio.toFixed(2)}x; ${cell.answeredDifferently}/${cell.texts} answered differently (load ${cell.loadAverage.toFixed(2)})`,
      );
    }
  }
  for (const engine of Object.values(engines)) await engine.close();
  write(true);
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
