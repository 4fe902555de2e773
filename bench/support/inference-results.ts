import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Int8ActivationScale, ModelDtype, SafetyLevel, TemplateLengths } from '../../src/inference';
import type { GemmLimit } from '../gemm-limit';
import type { LlamaCppSettings } from './llama-cpp';

/**
 * (d) is llama.cpp on the GGUF file of the same weights, fed our prompt ids: `d-llama-cpp` keeps the template
 * prefix evaluated and evaluates text + tail + cue once per verdict, `d-llama-cpp-plain` generates from scratch.
 */
export type BenchSystem = 'a-engine' | 'b-plain-greedy' | 'c-transformers-js' | 'd-llama-cpp' | 'd-llama-cpp-plain';
export type BenchMode = 'prompt' | 'response';

/** What a result file says it ran on: the commit checked out when the run started, and the machine. */
export interface RunProvenance {
  commit: string;
  machine: { cpu?: string; cores: number; node: string };
}

export function runProvenance(): RunProvenance {
  return {
    commit: execSync('git rev-parse --short HEAD').toString().trim(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
  };
}

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
  /** The 1-, 5- and 15-minute load averages when the cell finished (absent in older files). */
  loadavg?: number[];
  /** d-llama-cpp: the prompt ids kept evaluated between verdicts (the prompts' shared prefix). */
  prefixTokens?: number;
  /** (a) at concurrency 1: how its verdicts on the cell's inputs came out (random weights give a mix). */
  verdicts?: Record<SafetyLevel, number>;
  /** (b), (c) and (d): tokens generated per request, on average (each as many as (a)'s answer to the same input). */
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
export interface InferenceResults extends RunProvenance {
  date: string;
  /** False while the run is going on, and in a run that was interrupted; absent in files written before it was recorded. */
  complete?: boolean;
  model: string;
  /** (a)'s int8 activation scales (OnnxEngineOptions.int8Activations); absent in files written before it was recorded: per pass. */
  int8Activations?: Int8ActivationScale;
  /** (a)'s largest batch; absent in files written before it was recorded: 16. */
  maxBatch?: number;
  /** The model's chat template: fixed tokens before and after the conversation; absent in files written before it was recorded. */
  template?: Record<BenchMode, TemplateLengths>;
  gemm: GemmLimit;
  /** The int8 limit (the quantized export's operators); int8 prefill is a share of it. Absent in older files. */
  gemmInt8?: GemmLimit;
  /** Load averages at the start and the end of the run. */
  load?: { start: number[]; end?: number[] };
  /** (d): node-llama-cpp and llama.cpp versions and settings per dtype, and the converter that made the GGUF files. */
  llamaCpp?: { converter?: unknown; byDtype: Partial<Record<ModelDtype, LlamaCppSettings>> };
  /** Every weight matrix once per token, the LM head included. */
  flopsPerToken: number;
  cells: InferenceCell[];
}

export function readInferenceResults(file: string): InferenceResults {
  return JSON.parse(readFileSync(file, 'utf8')) as InferenceResults;
}
