/**
 * How often a text's answer depends on whether it was decoded alone or in a batch (issue 20). A lone request's
 * answer is the token-by-token one to the bit (speculative-equivalence.spec.ts); a batch's rows are left-padded
 * between the prefix and their text, which shifts the columns softmax adds up, and int8 quantizers can turn that
 * rounding into whole steps. Every text runs alone, then in batches of `--batch`, on the engine as the service
 * runs it (speculative answers, per-token int8 scales); answers are compared, not timed.
 *
 *   npx tsx bench/batched-answers.ts --model models/0.6b-seed4 [--model ...] [--dtype quantized] [--texts 40] [--batch 8]
 *
 * Writes bench/results/batched-answers-<date>T<hhmm>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { ModelDtype, OnnxModerationEngine, PromptEncoder, Verdict, readModelDirectory } from '../src/inference';
import { conversation } from './support/bench-texts';
import { runProvenance } from './support/inference-results';

const TEXT_TOKENS = 16;

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true, default: ['models/qwen3guard-gen-0.6b-synthetic'] },
      dtype: { type: 'string', default: 'quantized' },
      texts: { type: 'string', default: '40' },
      batch: { type: 'string', default: '8' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  return {
    models: values.model.map((model) => resolve(model)),
    dtype: values.dtype as ModelDtype,
    texts: Number(values.texts),
    batch: Number(values.batch),
    out: values.out,
  };
}

interface Answer {
  level: Verdict['safetyLevel'];
  categories: Verdict['categories'];
  refusal: Verdict['refusal'];
}

const answerOf = (verdict: Verdict): Answer => ({ level: verdict.safetyLevel, categories: verdict.categories, refusal: verdict.refusal });

async function main(): Promise<void> {
  const options = parseCommandLine();
  const started = new Date().toISOString();
  const cells: Array<Record<string, unknown>> = [];
  for (const model of options.models) {
    const directory = readModelDirectory(model, options.dtype);
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    // A wait long enough for every input of one call to join one batch.
    const engine = new OnnxModerationEngine({
      modelDir: model,
      dtype: options.dtype,
      provider: 'cpu',
      maxNewTokens: 64,
      demo: false,
      verifyAnswerFormat: false,
      batching: { maxBatch: options.batch, maxWaitMs: 50 },
    });
    await engine.load();
    for (const mode of ['prompt', 'response'] as const) {
      const inputs = Array.from({ length: options.texts }, (_, seed) => ({ messages: conversation(encoder, mode, TEXT_TOKENS, seed) }));
      const alone: Answer[] = [];
      for (const input of inputs) alone.push(answerOf((await engine.moderate([input]))[0]));
      const batched: Answer[] = [];
      for (let first = 0; first < inputs.length; first += options.batch) {
        batched.push(...(await engine.moderate(inputs.slice(first, first + options.batch))).map(answerOf));
      }
      const differing = alone.flatMap((answer, seed) =>
        JSON.stringify(answer) === JSON.stringify(batched[seed]) ? [] : [{ seed, alone: answer, batched: batched[seed] }],
      );
      const levels = alone.map((answer) => answer.level);
      const cell = {
        model,
        mode,
        texts: inputs.length,
        verdicts: Object.fromEntries(['safe', 'controversial', 'unsafe'].map((level) => [level, levels.filter((seen) => seen === level).length])),
        answeredDifferently: differing.length,
        levelsDifferently: differing.filter(({ alone: a, batched: b }) => a.level !== b.level).length,
        differing,
        loadAverage: loadavg()[0],
      };
      cells.push(cell);
      console.log(
        `${model} ${options.dtype} ${mode}: ${cell.answeredDifferently} of ${cell.texts} answered differently in batches of ${options.batch} (levels: ${cell.levelsDifferently})`,
      );
    }
    await engine.close();
  }
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `batched-answers-${started.slice(0, 16).replace(':', '')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ date: started, ...runProvenance(), dtype: options.dtype, batch: options.batch, textTokens: TEXT_TOKENS, cells }, null, 2) + '\n',
  );
  console.log(`wrote ${file}`);
}

void main();
