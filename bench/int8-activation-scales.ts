/**
 * What per-token int8 activation scales (the engine's default on CPU, src/inference/runtime/per-token-int8.ts)
 * cost per verdict against the export's own per-pass scales. Both engines are loaded side by side and every
 * text runs on each in turn, alternating which goes first, so a machine whose speed drifts slows both alike;
 * medians are reported, with the load average, and how many texts the two answered differently (two int8
 * roundings of random weights: near-ties may fall either way).
 *
 *   npx tsx bench/int8-activation-scales.ts [--model models/qwen3guard-gen-0.6b-synthetic] [--length 16 ...] [--texts 4] [--rounds 3]
 *
 * Writes bench/results/int8-activation-scales-<date>T<hhmm>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { INT8_ACTIVATION_SCALES, Int8ActivationScale, OnnxModerationEngine, PromptEncoder, Verdict, readModelDirectory } from '../src/inference';
import { conversation } from './support/bench-texts';
import { runProvenance } from './support/inference-results';
import { percentile } from './support/service-process';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/qwen3guard-gen-0.6b-synthetic' },
      length: { type: 'string', multiple: true, default: ['16', '64', '256', '1024'] },
      texts: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '3' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  return { model: resolve(values.model), lengths: values.length.map(Number), texts: Number(values.texts), rounds: Number(values.rounds), out: values.out };
}

const answerOf = (verdict: Verdict) => JSON.stringify([verdict.safetyLevel, verdict.categories, verdict.refusal]);

async function main(): Promise<void> {
  const options = parseCommandLine();
  const directory = readModelDirectory(options.model, 'quantized');
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const engines = {} as Record<Int8ActivationScale, OnnxModerationEngine>;
  for (const scale of INT8_ACTIVATION_SCALES) {
    // As `npm run bench` runs (a): the answer format imposed on random weights, one request at a time.
    engines[scale] = new OnnxModerationEngine(
      {
        modelDir: options.model,
        dtype: 'quantized',
        provider: 'cpu',
        maxNewTokens: 64,
        demo: false,
        verifyAnswerFormat: false,
        int8Activations: scale,
        batching: { maxBatch: 1 },
      },
      silent,
    );
    await engines[scale].load();
  }
  const started = new Date().toISOString();
  const provenance = runProvenance();
  const file = join(options.out, `int8-activation-scales-${started.slice(0, 16).replace(':', '')}.json`);
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
          model: options.model,
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
      const latencies: Record<Int8ActivationScale, number[]> = { 'per-token': [], 'per-pass': [] };
      const answers: Record<Int8ActivationScale, string[]> = { 'per-token': [], 'per-pass': [] };
      for (let round = 0; round < options.rounds; round++) {
        const order = round % 2 === 0 ? INT8_ACTIVATION_SCALES : [...INT8_ACTIVATION_SCALES].reverse();
        for (const messages of texts) {
          for (const scale of order) {
            const t = performance.now();
            const [verdict] = await engines[scale].moderate([{ messages }]);
            latencies[scale].push(performance.now() - t);
            if (round === 0) answers[scale].push(answerOf(verdict));
          }
        }
      }
      const median = (scale: Int8ActivationScale) => percentile(latencies[scale], 50);
      const cell = {
        tokens,
        mode,
        medianMs: { perToken: median('per-token'), perPass: median('per-pass') },
        perTokenOverPerPass: median('per-token') / median('per-pass'),
        answeredDifferently: answers['per-token'].filter((answer, i) => answer !== answers['per-pass'][i]).length,
        texts: texts.length,
        loadAverage: loadavg()[0],
      };
      cells.push(cell);
      write(false);
      console.log(
        `${tokens} tokens ${mode}: per token ${cell.medianMs.perToken.toFixed(0)} ms, per pass ${cell.medianMs.perPass.toFixed(0)} ms, ` +
          `${cell.perTokenOverPerPass.toFixed(2)}x; ${cell.answeredDifferently}/${cell.texts} answered differently (load ${cell.loadAverage.toFixed(2)})`,
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
