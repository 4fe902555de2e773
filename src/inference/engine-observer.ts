import { EngineErrorCode } from './engine-error';
import { ModelInfo } from './moderation-engine';

/** What one executed batch (one forward pipeline: prefill, then the greedy decode loop) did. */
export interface BatchReport {
  /** Inputs in the batch. */
  size: number;
  prefillSeconds: number;
  decodeSeconds: number;
  /** Prompt tokens of every input in the batch, cached ones included. */
  promptTokens: number;
  /** Prompt tokens whose KV came from a prefix cache (a subset of promptTokens); 0 while there is none. */
  cachedTokens: number;
  /** Tokens the model generated for the batch. */
  generatedTokens: number;
}

/**
 * Where the engine reports what it does, for metrics. Plain TypeScript (no framework, no metrics library):
 * the service implements it with Prometheus instruments (src/metrics) and provides it under this class as
 * the DI token; the CLI, benchmarks and tests pass nothing and get {@link NOOP_ENGINE_OBSERVER}.
 *
 * Only requests are reported: the warm-up inference during `load()` is not a verdict anyone asked for.
 * Calls are synchronous and must be cheap; an observer must never throw.
 */
export abstract class EngineObserver {
  /** Inputs waiting in the engine's queue changed (absolute count). */
  abstract queueDepth(depth: number): void;
  /** An input left the queue and started running after waiting this long. */
  abstract queueWait(seconds: number): void;
  abstract batchExecuted(batch: BatchReport): void;
  /** A prefix-cache lookup (reserved for the prefix cache; not called while there is none). */
  abstract prefixCacheLookup(hit: boolean): void;
  /** The engine refused or failed a request, or failed to load. */
  abstract engineError(code: EngineErrorCode): void;
  /** The model is loaded and its warm-up inference passed; requests are served from now on. */
  abstract modelLoaded(info: ModelInfo, loadSeconds: number): void;
  /** The model is no longer served (closed, or its load failed). */
  abstract modelUnloaded(): void;
}

class NoopEngineObserver extends EngineObserver {
  queueDepth(): void {}
  queueWait(): void {}
  batchExecuted(): void {}
  prefixCacheLookup(): void {}
  engineError(): void {}
  modelLoaded(): void {}
  modelUnloaded(): void {}
}

/** Reports nothing. */
export const NOOP_ENGINE_OBSERVER: EngineObserver = new NoopEngineObserver();
