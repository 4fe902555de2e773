/**
 * llama.cpp's next-token log-probabilities for given prompt ids, one JSON line per prompt on stdout:
 * `{"ids": n, "logProbabilities": "<base64 float32 over the vocabulary>"}`, with a float32 KV cache (llama.cpp's
 * default F16 one alone moves the 0.6B model's log-probabilities by 1.3e-3). A separate process because
 * node-llama-cpp is an ES module with top-level await, which Jest's CommonJS module loader cannot load; the
 * GGUF agreement suite (test/llama-cpp-agreement.e2e-spec.ts) runs it through tsx.
 *
 *   npx tsx bench/llama-cpp-next-token.ts <file.gguf> '[[151644, 872, ...], ...]'
 */
import { LlamaCppRunner } from './support/llama-cpp';

async function main(): Promise<void> {
  const [gguf, promptsJson] = process.argv.slice(2);
  if (!gguf || !promptsJson) throw new Error('usage: llama-cpp-next-token.ts <file.gguf> <prompts as a JSON array of id arrays>');
  const prompts = JSON.parse(promptsJson) as number[][];
  const contextSize = Math.max(...prompts.map((prompt) => prompt.length)) + 16;
  const runner = await LlamaCppRunner.open(gguf, { contextSize, batchSize: contextSize, threads: 0, flashAttention: false, kvCache: 'F32' });
  try {
    for (const prompt of prompts) {
      const probabilities = await runner.nextTokenProbabilities(prompt);
      const vocabulary = [...probabilities.keys()].reduce((size, token) => Math.max(size, token + 1), 0);
      const logProbabilities = new Float32Array(vocabulary).fill(-Infinity);
      for (const [token, probability] of probabilities) logProbabilities[token] = Math.log(probability);
      process.stdout.write(`${JSON.stringify({ ids: prompt.length, logProbabilities: Buffer.from(logProbabilities.buffer).toString('base64') })}\n`);
    }
  } finally {
    await runner.close();
  }
}

void main().catch((error) => {
  console.error(error);
  process.exit(1);
});
