/**
 * What an Unsafe verdict costs next to a Safe one (issue 20, item 3), per verdict, for 16-token texts, with the
 * answer decoded step by step (speculativeAnswer off: one pass per choice after the prefill) and speculatively
 * (on). Both engines are loaded side by side and every text runs on each in turn, alternating which goes
 * first, so a busy machine slows both alike; medians are reported, with the load average.
 *
 *   npx tsx bench/unsafe-verdict-cost.ts [--model models/qwen3guard-gen-0.6b-synthetic ...] [--dtype fp32 --dtype quantized] [--rounds 5] [--candidates 40]
 *
 * The synthetic model's random weights never write the answer format themselves, so it is imposed
 * (verifyAnswerFormat off), as in `npm run bench`: the same passes. Texts are sorted by the verdict they get
 * (Safe, Unsafe with one category, Unsafe with none or several, Controversial) before timing. One seed's
 * random weights give nearly every text the same verdict, so `--model` may name several models of one shape
 * (`build-model --seed`): the work of a pass does not depend on the weights' values, and Safe texts found on
 * more than one model are timed per model as a check of that. Writes
 * bench/results/unsafe-verdicts-<date>T<hhmm>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { runProvenance } from './support/inference-results';
import { ChatMessage, ModelDtype, ModerationMode, OnnxModerationEngine, PromptEncoder, readModelDirectory, Verdict } from '../src/inference';

const WORDS = 'the river morning garden quiet market window letter travel music paper yellow table story friend knife poison vote secret bomb'.split(' ');
const TEXT_TOKENS = 16;
/** Texts timed per mode and verdict. */
const PER_CLASS = 4;

type Variant = 'stepwise' | 'speculative';
const VERDICT_CLASSES = ['safe', 'unsafe-1', 'unsafe-other', 'controversial'] as const;
type VerdictClass = (typeof VERDICT_CLASSES)[number];

/** Unsafe answers split by category count: one is what a real guard model writes for most harmful texts. */
function verdictClass(verdict: Verdict): VerdictClass {
  if (verdict.safetyLevel !== 'unsafe') return verdict.safetyLevel;
  return verdict.categories.length === 1 ? 'unsafe-1' : 'unsafe-other';
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', multiple: true, default: ['models/qwen3guard-gen-0.6b-synthetic'] },
      dtype: { type: 'string', multiple: true, default: ['fp32'] },
      rounds: { type: 'string', default: '5' },
      /** Texts tried per mode to find enough of each verdict. */
      candidates: { type: 'string', default: '40' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  return {
    models: values.model.map((model) => resolve(model)),
    dtypes: values.dtype as ModelDtype[],
    rounds: Number(values.rounds),
    candidates: Number(values.candidates),
    out: values.out,
  };
}

/** A deterministic text of exactly `tokens` tokens or just over, from a seeded walk over WORDS. */
function textOfTokens(encoder: PromptEncoder, tokens: number, seed: number): string {
  const words: string[] = [];
  for (let i = 0; encoder.tokenize(words.join(' ')).length < tokens; i++) words.push(WORDS[(seed * 7 + i * i * 3 + i * 11) % WORDS.length]);
  return words.join(' ');
}

function conversation(encoder: PromptEncoder, mode: ModerationMode, seed: number): ChatMessage[] {
  if (mode === 'prompt') return [{ role: 'user', content: textOfTokens(encoder, TEXT_TOKENS, seed) }];
  return [
    { role: 'user', content: textOfTokens(encoder, TEXT_TOKENS / 2, seed) },
    { role: 'assistant', content: textOfTokens(encoder, TEXT_TOKENS / 2, seed + 1000) },
  ];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface ChosenText {
  model: string;
  messages: ChatMessage[];
  categories: number;
}

const answerOf = (verdict: Verdict) => JSON.stringify([verdict.safetyLevel, verdict.categories, verdict.refusal, verdict.generatedTokens]);

async function main(): Promise<void> {
  const options = parseCommandLine();
  const directory = readModelDirectory(options.models[0], options.dtypes[0]);
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const started = new Date().toISOString();
  const provenance = runProvenance();
  const loadBefore = loadavg();
  const cells: Array<Record<string, unknown>> = [];
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `unsafe-verdicts-${started.slice(0, 16).replace(':', '')}.json`);
  // Rewritten after every cell: on a busy machine a run takes long, and an interrupted one keeps what it measured.
  const write = (complete: boolean) => {
    const result = {
      date: started,
      complete,
      ...provenance,
      models: options.models,
      textTokens: TEXT_TOKENS,
      rounds: options.rounds,
      loadAverage: { before: loadBefore, now: loadavg() },
      cells,
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  };

  for (const dtype of options.dtypes) {
    const engines = new Map<string, Record<Variant, OnnxModerationEngine>>();
    for (const model of options.models) {
      const pair = {} as Record<Variant, OnnxModerationEngine>;
      for (const variant of ['stepwise', 'speculative'] as const) {
        pair[variant] = new OnnxModerationEngine({
          modelDir: model,
          dtype,
          provider: 'cpu',
          maxNewTokens: 64,
          demo: false,
          verifyAnswerFormat: false,
          speculativeAnswer: variant === 'speculative',
          batching: { maxBatch: 1 },
        });
        await pair[variant].load();
      }
      engines.set(model, pair);
    }
    for (const mode of ['prompt', 'response'] as const) {
      // Sort candidate texts by their verdict on each model; both variants must give the same answer.
      const disagreements: Array<Record<string, string | number>> = [];
      const chosen = Object.fromEntries(VERDICT_CLASSES.map((name) => [name, []])) as unknown as Record<VerdictClass, ChosenText[]>;
      for (const [model, pair] of engines) {
        const found = Object.fromEntries(VERDICT_CLASSES.map((name) => [name, 0])) as Record<VerdictClass, number>;
        for (let seed = 0; seed < options.candidates && Object.values(found).some((count) => count < PER_CLASS); seed++) {
          const messages = conversation(encoder, mode, seed);
          const [[stepwise], [speculative]] = [await pair.stepwise.moderate([{ messages }]), await pair.speculative.moderate([{ messages }])];
          // Counted, not timed. Expected none: with per-token int8 activation scales (the engine's default) a pass
          // computes each token as a pass of its own would; per-pass scales let a draft tip near-ties.
          if (answerOf(stepwise) !== answerOf(speculative)) {
            disagreements.push({ model, seed, stepwise: answerOf(stepwise), speculative: answerOf(speculative) });
            continue;
          }
          const name = verdictClass(stepwise);
          if (found[name] >= PER_CLASS) continue;
          found[name] += 1;
          chosen[name].push({ model, messages, categories: stepwise.categories.length });
        }
      }
      const latencies: Record<string, Array<{ model: string; ms: number }>> = {};
      for (let round = 0; round < options.rounds; round++) {
        const order: Variant[] = round % 2 === 0 ? ['stepwise', 'speculative'] : ['speculative', 'stepwise'];
        for (const [name, texts] of Object.entries(chosen)) {
          for (const { model, messages } of texts) {
            for (const variant of order) {
              const t = performance.now();
              await engines.get(model)![variant].moderate([{ messages }]);
              (latencies[`${variant} ${name}`] ??= []).push({ model, ms: performance.now() - t });
            }
          }
        }
      }
      for (const variant of ['stepwise', 'speculative'] as const) {
        const timed = (name: VerdictClass) => latencies[`${variant} ${name}`] ?? [];
        const medianOf = (samples: Array<{ ms: number }>) => (samples.length ? median(samples.map((sample) => sample.ms)) : null);
        const medians = Object.fromEntries(VERDICT_CLASSES.map((name) => [name, medianOf(timed(name))])) as Record<VerdictClass, number | null>;
        const over = (name: VerdictClass) => (medians[name] && medians.safe ? medians[name] / medians.safe : null);
        const cell = {
          dtype,
          mode,
          variant,
          medianMs: medians,
          unsafeOverSafe: { oneCategory: over('unsafe-1'), other: over('unsafe-other') },
          /** The check that the weights' values do not change the work: Safe medians per model that gave Safe texts. */
          safeMedianMsByModel: Object.fromEntries(options.models.map((model) => [model, medianOf(timed('safe').filter((sample) => sample.model === model))])),
          texts: Object.fromEntries(
            Object.entries(chosen).map(([name, texts]) => [name, texts.map((text) => ({ model: text.model, categories: text.categories }))]),
          ),
          /** Texts whose answers differed between the two variants (not timed). */
          disagreements,
          loadAverage: loadavg()[0],
        };
        cells.push(cell);
        write(false);
        const ms = (value: number | null) => (value === null ? '–' : value.toFixed(0));
        const ratio = (value: number | null) => value?.toFixed(2) ?? '–';
        console.log(
          `${dtype} ${mode} ${variant}: Safe ${ms(medians.safe)} ms, Unsafe one category ${ms(medians['unsafe-1'])} ms, ` +
            `Unsafe none or several ${ms(medians['unsafe-other'])} ms, Controversial ${ms(medians.controversial)} ms; ` +
            `Unsafe/Safe ${ratio(cell.unsafeOverSafe.oneCategory)} (one category), ${ratio(cell.unsafeOverSafe.other)} (other); ` +
            `Safe by model ${Object.values(cell.safeMedianMsByModel).map(ms).join(' / ')}; ${disagreements.length} texts answered differently (load ${cell.loadAverage.toFixed(2)})`,
        );
      }
    }
    for (const pair of engines.values()) for (const engine of Object.values(pair)) await engine.close();
  }

  write(true);
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
