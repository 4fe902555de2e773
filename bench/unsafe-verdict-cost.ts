/**
 * What an Unsafe verdict costs next to a Safe one (issue 20, item 3), per verdict, for 16-token texts, with the
 * answer decoded step by step (speculativeAnswer off: one pass per choice after the prefill) and speculatively
 * (on). Both engines are loaded side by side and every text runs on each in turn, alternating which goes
 * first, so a busy machine slows both alike; medians are reported, with the load average.
 *
 *   npx tsx bench/unsafe-verdict-cost.ts [--model models/qwen3guard-gen-0.6b-synthetic] [--dtype fp32 --dtype quantized] [--rounds 5] [--candidates 40]
 *
 * The synthetic model's random weights never write the answer format themselves, so it is imposed
 * (verifyAnswerFormat off), as in `npm run bench`: the same passes. Texts are sorted by the verdict they get
 * (Safe, Unsafe, Controversial) before timing. Writes bench/results/unsafe-verdicts-<date>T<hhmm>.json.
 */
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatMessage, ModelDtype, ModerationMode, OnnxModerationEngine, PromptEncoder, readModelDirectory, Verdict } from '../src/inference';

const WORDS = 'the river morning garden quiet market window letter travel music paper yellow table story friend knife poison vote secret bomb'.split(' ');
const TEXT_TOKENS = 16;
/** Texts timed per mode and verdict. */
const PER_CLASS = 4;

type Variant = 'stepwise' | 'speculative';
type VerdictClass = 'safe' | 'unsafe' | 'controversial';

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: 'models/qwen3guard-gen-0.6b-synthetic' },
      dtype: { type: 'string', multiple: true, default: ['fp32'] },
      rounds: { type: 'string', default: '5' },
      /** Texts tried per mode to find enough of each verdict. */
      candidates: { type: 'string', default: '40' },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  return {
    model: resolve(values.model),
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

const answerOf = (verdict: Verdict) => JSON.stringify([verdict.safetyLevel, verdict.categories, verdict.refusal, verdict.generatedTokens]);

async function main(): Promise<void> {
  const options = parseCommandLine();
  const directory = readModelDirectory(options.model, options.dtypes[0]);
  const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
  const started = new Date().toISOString();
  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const loadBefore = loadavg();
  const cells: Array<Record<string, unknown>> = [];
  mkdirSync(options.out, { recursive: true });
  const file = join(options.out, `unsafe-verdicts-${started.slice(0, 16).replace(':', '')}.json`);
  // Rewritten after every cell: on a busy machine a run takes long, and an interrupted one keeps what it measured.
  const write = (complete: boolean) => {
    const result = {
      date: started,
      complete,
      commit,
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
      model: options.model,
      textTokens: TEXT_TOKENS,
      rounds: options.rounds,
      loadAverage: { before: loadBefore, now: loadavg() },
      cells,
    };
    writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  };

  for (const dtype of options.dtypes) {
    const engines = {} as Record<Variant, OnnxModerationEngine>;
    for (const variant of ['stepwise', 'speculative'] as const) {
      engines[variant] = new OnnxModerationEngine({
        modelDir: options.model,
        dtype,
        provider: 'cpu',
        maxNewTokens: 64,
        demo: false,
        verifyAnswerFormat: false,
        speculativeAnswer: variant === 'speculative',
        batching: { maxBatch: 1 },
      });
      await engines[variant].load();
    }
    for (const mode of ['prompt', 'response'] as const) {
      // Sort candidate texts by their verdict; both variants must give the same answer.
      const chosen: Record<VerdictClass, Array<{ messages: ChatMessage[]; categories: number }>> = { safe: [], unsafe: [], controversial: [] };
      for (let seed = 0; seed < options.candidates && Object.values(chosen).some((texts) => texts.length < PER_CLASS); seed++) {
        const messages = conversation(encoder, mode, seed);
        const [[stepwise], [speculative]] = [await engines.stepwise.moderate([{ messages }]), await engines.speculative.moderate([{ messages }])];
        if (answerOf(stepwise) !== answerOf(speculative))
          throw new Error(`the two variants disagree on a ${mode} text: ${answerOf(stepwise)} vs ${answerOf(speculative)}`);
        const texts = chosen[stepwise.safetyLevel];
        if (texts.length < PER_CLASS) texts.push({ messages, categories: stepwise.categories.length });
      }
      const latencies: Record<string, number[]> = {};
      for (let round = 0; round < options.rounds; round++) {
        const order: Variant[] = round % 2 === 0 ? ['stepwise', 'speculative'] : ['speculative', 'stepwise'];
        for (const [verdictClass, texts] of Object.entries(chosen)) {
          for (const { messages } of texts) {
            for (const variant of order) {
              const t = performance.now();
              await engines[variant].moderate([{ messages }]);
              (latencies[`${variant} ${verdictClass}`] ??= []).push(performance.now() - t);
            }
          }
        }
      }
      for (const variant of ['stepwise', 'speculative'] as const) {
        const medians = Object.fromEntries(
          (['safe', 'unsafe', 'controversial'] as const).map((level) => [
            level,
            latencies[`${variant} ${level}`] ? median(latencies[`${variant} ${level}`]) : null,
          ]),
        );
        const cell = {
          dtype,
          mode,
          variant,
          medianMs: medians,
          unsafeOverSafe: medians.unsafe && medians.safe ? medians.unsafe / medians.safe : null,
          texts: Object.fromEntries(Object.entries(chosen).map(([level, texts]) => [level, texts.map((text) => text.categories)])),
          samples: Object.fromEntries(
            Object.entries(latencies)
              .filter(([key]) => key.startsWith(variant))
              .map(([key, values]) => [key.split(' ')[1], values.length]),
          ),
          loadAverage: loadavg()[0],
        };
        cells.push(cell);
        write(false);
        const ms = (value: number | null) => (value === null ? '–' : value.toFixed(0));
        console.log(
          `${dtype} ${mode} ${variant}: Safe ${ms(medians.safe)} ms, Unsafe ${ms(medians.unsafe)} ms (categories ${cell.texts.unsafe.join(',')}), ` +
            `Controversial ${ms(medians.controversial)} ms; Unsafe/Safe ${cell.unsafeOverSafe?.toFixed(2) ?? '–'} (load ${cell.loadAverage.toFixed(2)})`,
        );
      }
    }
    for (const engine of Object.values(engines)) await engine.close();
  }

  write(true);
  console.log(`wrote ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
