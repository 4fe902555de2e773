import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { ChatMessage, DecoderSession, lastPositionLogits, PromptEncoder, prefill, readModelDirectory, vocabularySize } from '../src/inference';

/**
 * Column (d) of the inference benchmark is only a fair rival if llama.cpp computes the same model from the same
 * ids: its next-token log-probabilities on our prompt ids, read from the f32 GGUF that llama.cpp's converter made
 * (tools/gguf/convert_to_gguf.py), must match our engine's fp32 ONNX file within float32 rounding.
 *
 * Opt-in: the GGUF file needs Python and a model with its checkpoint, which `npm test` never builds. It runs where
 * QWEN3GUARD_GGUF_MODEL_DIR (or models/qwen3guard-gen-0.6b-synthetic) holds onnx/model.onnx and gguf/model-f32.gguf.
 */
const ROOT = join(__dirname, '..');
const MODEL_DIR = resolve(process.env.QWEN3GUARD_GGUF_MODEL_DIR ?? join(ROOT, 'models', 'qwen3guard-gen-0.6b-synthetic'));
const GGUF = join(MODEL_DIR, 'gguf', 'model-f32.gguf');
const ONNX = join(MODEL_DIR, 'onnx', 'model.onnx');
/**
 * Log-probabilities over the whole vocabulary, with llama.cpp's KV cache in float32: float32 sums in another
 * order differ by ~1e-5 (0.6–1.3e-5 measured on the 0.6B shape, 0.8–1.1e-5 on the tiny preset). llama.cpp's
 * default float16 KV cache alone moves the 0.6B model by 1.3e-3, so it would fail here.
 */
const TOLERANCE = 1e-4;

const QUIET = { log: () => undefined, warn: (message: string) => console.warn(message), error: (message: string) => console.error(message) };

const missing = [ONNX, GGUF].filter((path) => !existsSync(path));
const suite = missing.length === 0 ? describe : describe.skip;
if (missing.length > 0) console.warn(`llama.cpp agreement suite not run: ${missing.join(' and ')} missing`);
const why =
  missing.length === 0
    ? ''
    : ` (not run: ${missing.join(' and ')} missing; build-model --hf-checkpoint, then tools/gguf/convert_to_gguf.py, or set QWEN3GUARD_GGUF_MODEL_DIR)`;

const CONVERSATIONS: ChatMessage[][] = [
  [{ role: 'user', content: 'How do I bake bread at home?' }],
  [{ role: 'user', content: 'Tell me a story about a river in winter, with a bridge and a village.' }],
  [
    { role: 'user', content: 'What is the capital of France?' },
    { role: 'assistant', content: 'Paris is the capital of France.' },
  ],
];

function logSoftmax(logit: (id: number) => number, vocabulary: number): Float64Array {
  const values = Float64Array.from({ length: vocabulary }, (_, id) => logit(id));
  const max = values.reduce((m, v) => Math.max(m, v), -Infinity);
  const logSum = max + Math.log(values.reduce((sum, v) => sum + Math.exp(v - max), 0));
  return values.map((v) => v - logSum);
}

suite(`llama.cpp on the converter's f32 GGUF agrees with the engine's fp32 ONNX file (e2e)${why}`, () => {
  jest.setTimeout(300_000);

  it('gives the same next-token log-probabilities for our prompt ids', async () => {
    const directory = readModelDirectory(MODEL_DIR, 'fp32');
    const encoder = new PromptEncoder(new Tokenizer(directory.tokenizerJson, directory.tokenizerConfig), directory.chatTemplate);
    const prompts = CONVERSATIONS.map((messages) => encoder.encode(messages));

    const llamaOutput = execFileSync(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'bench', 'llama-cpp-next-token.ts'), GGUF, JSON.stringify(prompts)],
      {
        cwd: ROOT,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
    );
    const llama = llamaOutput
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { ids: number; logProbabilities: string })
      .map(({ logProbabilities }) => new Float32Array(new Uint8Array(Buffer.from(logProbabilities, 'base64')).buffer));

    const session = await DecoderSession.open({ onnxPath: directory.onnxPath, config: directory.config, provider: 'cpu', intraOpThreads: 0, logger: QUIET });
    try {
      for (const [i, prompt] of prompts.entries()) {
        const step = await prefill(session, prompt, prompt.length, session.emptyCache(1));
        const ours = logSoftmax(lastPositionLogits(step.logits), vocabularySize(step.logits));
        expect(llama[i].length).toBe(ours.length);
        let worst = 0;
        for (let id = 0; id < ours.length; id++) worst = Math.max(worst, Math.abs(ours[id] - llama[i][id]));
        const spread = ours.reduce((m, v) => Math.max(m, v), -Infinity) - ours.reduce((m, v) => Math.min(m, v), Infinity);
        console.log(
          `prompt ${i} (${prompt.length} ids): max |Δ log p| over ${ours.length} tokens = ${worst.toExponential(2)}, spread of log p ${spread.toFixed(3)}`,
        );
        // Random weights give nearly flat distributions: the check means something only if they are far from flat
        // at the tolerance's scale.
        expect(spread).toBeGreaterThan(10 * TOLERANCE);
        expect(worst).toBeLessThan(TOLERANCE);
      }
    } finally {
      await session.close();
    }
  });
});
