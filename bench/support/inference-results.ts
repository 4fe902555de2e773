import { readFileSync } from 'node:fs';
import type { ModelDtype, TemplateLengths } from '../../src/inference';
import type { GemmLimit } from '../gemm-limit';

export type BenchSystem = 'a-engine' | 'b-plain-greedy' | 'c-transformers-js';
export type BenchMode = 'prompt' | 'response';

/** One measured cell of the inference benchmark: a system on one dtype, text length, mode and concurrency. */
export interface InferenceCell {
  system: BenchSystem;
  dtype: ModelDtype;
  textTokens: number;
  mode: BenchMode;
  concurrency: number;
  requests: number;
  p50Ms: number;
  p95Ms: number;
  throughputPerSecond: number;
  /** (b) and (c): tokens generated per request, on average (each as many as (a)'s answer to the same input). */
  answerTokens?: number;
  /**
   * (a) only: where its LM head ran (logits_to_keep: only the positions a pass reads); absent in files written
   * before the engine had the choice, when it ran on every position.
   */
  lmHead?: 'kept-positions' | 'every-position';
  /** (a) only: prompt tokens computed per second of prefill, and that rate in GFLOP/s (the FLOPs (a) really did). */
  prefillTokensPerSecond?: number;
  prefillGflops?: number;
}

/** What bench/inference-benchmark.ts writes to bench/results/, and the chart and table scripts read. */
export interface InferenceResults {
  date: string;
  /** False while the run is going on, and in a run that was interrupted; absent in files written before it was recorded. */
  complete?: boolean;
  commit: string;
  machine: { cpu?: string; cores: number; node: string };
  model: string;
  /** The model's chat template: fixed tokens before and after the conversation; absent in files written before it was recorded. */
  template?: Record<BenchMode, TemplateLengths>;
  gemm: GemmLimit;
  /** Every weight matrix once per token, the LM head included. */
  flopsPerToken: number;
  cells: InferenceCell[];
}

export function readInferenceResults(file: string): InferenceResults {
  return JSON.parse(readFileSync(file, 'utf8')) as InferenceResults;
}
