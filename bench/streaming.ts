/**
 * Streaming moderation against re-moderating from scratch: a 2,048-token answer checked every 32 tokens,
 * once through one moderation stream, once by moderating each prefix in full (prefix cache on).
 *
 *   npm run bench:streaming            [-- --tokens 2048 --every 32]
 *
 * Reports, per check and in total, the prompt positions each way computes against the bound (each check must
 * compute at least its new answer tokens and the template's tail), the speed-up at the last check, whether
 * every verdict agrees, and the latency of a stream check (p50/p99). The model is the demo model (synthetic
 * weights, Qwen3 tokenizer), whose template has the real one's response-mode tail of 119 tokens.
 * Position counts do not depend on the model; wall times on the demo model (one layer) are mostly overhead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { OnnxModerationEngine, PromptEncoder, readModelDirectory, StreamCheck, Verdict } from '../src/inference';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { SYNTHETIC_TEMPLATE_LENGTHS } from '../src/synthetic-model/chat-template';
const PROMPT = [{ role: 'user' as const, content: 'Write a long essay about gardens, rivers and the seasons.' }];
const WORDS =
  'the garden river season morning light water stone path tree leaf flower autumn winter spring summer quiet field hill cloud rain sun evening bird song green warm cool long slow'.split(
    ' ',
  );

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** An answer of exactly `tokens` tokens (plain words, no demo trigger word), cut into `every`-token chunks. */
function answerChunks(encoder: PromptEncoder, tokens: number, every: number): string[] {
  let text = '';
  for (let i = 0; encoder.tokenize(text).length < tokens; i++)
    text += `${i % 17 === 0 ? 'The' : ''} ${WORDS[(i * 7) % WORDS.length]}${i % 13 === 12 ? '.' : ''}`;
  const ids = encoder.tokenize(text).slice(0, tokens);
  const chunks: string[] = [];
  for (let at = 0; at < ids.length; at += every) chunks.push(encoder.detokenize(ids.slice(at, at + every)));
  return chunks;
}

async function main(): Promise<void> {
  const tokens = option('tokens', 2048);
  const every = option('every', 32);
  const root = mkdtempSync(join(tmpdir(), 'bench-streaming-'));
  try {
    const dir = await ensureDemoModel(root);
    const directory = readModelDirectory(dir, 'fp32');
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    const tailTokens = SYNTHETIC_TEMPLATE_LENGTHS.response.tail;
    const engine = new OnnxModerationEngine({ modelDir: dir, dtype: 'fp32', provider: 'cpu', maxNewTokens: 32, demo: true, intraOpThreads: 1 });
    await engine.load();
    const chunks = answerChunks(encoder, tokens, every);

    const stream = engine.openStream(PROMPT);
    const streamed: StreamCheck[] = [];
    const streamSeconds: number[] = [];
    const bounds: number[] = [];
    let answerTokensBefore = 0;
    for (const chunk of chunks) {
      stream.append(chunk);
      const started = performance.now();
      streamed.push(await stream.check());
      streamSeconds.push((performance.now() - started) / 1000);
      bounds.push(stream.answerTokens - answerTokensBefore + tailTokens);
      answerTokensBefore = stream.answerTokens;
    }
    stream.close();

    const scratch: Verdict[] = [];
    const scratchSeconds: number[] = [];
    let answer = '';
    for (const chunk of chunks) {
      answer += chunk;
      const started = performance.now();
      scratch.push((await engine.moderate([{ messages: [...PROMPT, { role: 'assistant', content: answer }] }]))[0]);
      scratchSeconds.push((performance.now() - started) / 1000);
    }
    await engine.close();

    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const streamComputed = streamed.map((check) => check.computedTokens);
    const scratchComputed = scratch.map((verdict) => verdict.promptTokens - verdict.cachedTokens);
    // The first check computes the prompt and head beyond the template prefix either way: the bound counts from the second.
    const later = (values: number[]) => values.slice(1);
    const same = streamed.every((check, i) => {
      const full = scratch[i];
      return (
        check.verdict.safetyLevel === full.safetyLevel && check.verdict.categories.join() === full.categories.join() && check.verdict.refusal === full.refusal
      );
    });
    const last = streamed.length - 1;
    const report = {
      answerTokens: stream.answerTokens,
      checks: streamed.length,
      tailTokens,
      computeVsBound: {
        total: sum(later(streamComputed)) / sum(later(bounds)),
        worstCheck: Math.max(...later(streamComputed).map((c, i) => c / later(bounds)[i])),
      },
      positionsComputed: { stream: sum(streamComputed), scratch: sum(scratchComputed) },
      lastCheck: {
        streamPositions: streamComputed[last],
        scratchPositions: scratchComputed[last],
        positionSpeedUp: scratchComputed[last] / streamComputed[last],
        wallSpeedUp: scratchSeconds[last] / streamSeconds[last],
      },
      totalWallSeconds: { stream: sum(streamSeconds), scratch: sum(scratchSeconds) },
      streamCheckMs: { p50: percentile(streamSeconds, 50) * 1000, p99: percentile(streamSeconds, 99) * 1000 },
      scratchCheckMs: { p50: percentile(scratchSeconds, 50) * 1000, p99: percentile(scratchSeconds, 99) * 1000 },
      sameVerdicts: same,
      loadAverage: loadavg()[0],
    };
    console.log(JSON.stringify(report, null, 2));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
