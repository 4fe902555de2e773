import { ort } from './onnxruntime';
import { DecoderIo, discoverDecoderIo } from './decoder-io';
import { EngineError, EngineErrorCode } from '../engine-error';
import { lastPositionLogits, vocabularySize } from './logits';
import { LOGITS_TO_KEEP } from './logits-to-keep';
import { AttentionHeads } from './grouped-attention';
import { AppliedRewrites, RewriteRequest } from './model-rewrites';
import { DecoderConfig, headDimOf } from '../model-format/decoder-config';
import { ExecutionProviderName } from '../moderation-engine';
import { EngineLogger, ProviderPreference } from '../onnx-engine-options';
import { KeepLastPositions } from './session-thread/session-messages';
import { SessionRun, ThreadedSession } from './session-thread/threaded-session';

/**
 * The keys and values of every layer for the tokens seen so far. They stay in the session's thread (a
 * resident set, `handle`); an empty cache has no set yet.
 */
export interface KvCache {
  handle: number | null;
  rows: number;
  length: number;
  /**
   * Borrowed from an owner that keeps it for later batches (the prefix cache): a pass reads it and leaves
   * it. Any other cache is consumed by the pass that takes it.
   */
  shared?: boolean;
}

/** Which logits a pass sends back: each row's last `positions`, and of those only `ids` when set. */
export type LogitsRead = Omit<KeepLastPositions, 'output'>;

/** One forward step over `batch` rows of `sequenceLength` new tokens each (row-major flat arrays). */
export interface ForwardStep {
  batch: number;
  sequenceLength: number;
  inputIds: BigInt64Array;
  /** `batch` x (cache length + sequenceLength); 0 marks padding. */
  attentionMask: BigInt64Array;
  /** `batch` x sequenceLength; only fed to exports that take `position_ids`. */
  positionIds: BigInt64Array;
}

/** A decoder ONNX session and the I/O it declared: one forward step at a time, KV cache in and out. */
/** What {@link DecoderSession.open} opens, and how. */
export interface DecoderSessionOptions {
  onnxPath: string;
  config: DecoderConfig;
  provider: ProviderPreference;
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  intraOpThreads: number;
  logger: EngineLogger;
  /**
   * Give the model a `logits_to_keep` input (logits-to-keep.ts), so that a pass computes the LM head only for
   * the positions its `read` keeps. The rewritten model must pass a check first. Default false.
   */
  logitsToKeep?: boolean;
  /**
   * On the CPU provider, give each token its own int8 activation scale (per-token-int8.ts), so that a text's
   * logits do not depend on what else a pass carries. Default false: int8 files run as exported.
   */
  perTokenInt8?: boolean;
  /**
   * Mask attention with the lowest float32 instead of -inf and drop the softmax's NaN guard
   * (finite-attention-mask.ts), where the export guards it as transformers does. Default false: as exported.
   */
  finiteAttentionMask?: boolean;
  /**
   * Let attention read each KV head once instead of a copy per query head (grouped-attention.ts), where the
   * export repeats them as transformers does. Default false: attention as exported.
   */
  groupedAttention?: boolean;
}

export class DecoderSession {
  /** Each present output kept in the thread under the past input it feeds next. */
  private readonly presentToPast: Record<string, string>;

  private constructor(
    private readonly session: ThreadedSession,
    readonly io: DecoderIo,
    readonly provider: ExecutionProviderName,
    /** What the load-time rewrites changed (0 each: the model as exported). */
    readonly applied: AppliedRewrites,
  ) {
    this.presentToPast = Object.fromEntries(
      io.layers.flatMap((layer) => [
        [layer.presentKey, layer.pastKey],
        [layer.presentValue, layer.pastValue],
      ]),
    );
  }

  /**
   * Where the rewritten model fails its check or cannot take `logits_to_keep`, the model runs as exported and
   * the log says why.
   */
  static async open(options: DecoderSessionOptions): Promise<DecoderSession> {
    const { onnxPath, config, provider: preference, intraOpThreads, logger, logitsToKeep = false, perTokenInt8 = false, finiteAttentionMask = false } = options;
    const groupedAttention = options.groupedAttention === true && attentionHeads(config);
    const rewrites = { logitsToKeep, perTokenInt8, finiteAttentionMask, groupedAttention };
    const { session, provider } = await createSession(onnxPath, preference, intraOpThreads, logger, rewrites);
    const { rewriteSkipped } = session;
    const opened = new DecoderSession(session, discoverDecoderIo(session, config), provider, session.applied);
    if (rewriteSkipped.logitsToKeep)
      logger.log(`logits are computed for every position: ${onnxPath} cannot take logits_to_keep (${rewriteSkipped.logitsToKeep})`);
    if (rewriteSkipped.finiteAttentionMask) logger.log(`attention keeps its -inf mask and NaN guard in ${onnxPath}: ${rewriteSkipped.finiteAttentionMask}`);
    if (rewriteSkipped.groupedAttention)
      logger.log(`attention runs as exported in ${onnxPath}, without reading each KV head once: ${rewriteSkipped.groupedAttention}`);
    if (rewriteSkipped.perTokenInt8)
      logger.warn(`int8 activations keep one scale per pass: ${onnxPath} cannot take per-token scales (${rewriteSkipped.perTokenInt8})`);
    if (!opened.io.logitsToKeep) return opened;
    const problem = await opened.logitsToKeepProblem();
    if (problem === undefined) return opened;
    logger.warn(`the logits_to_keep rewrite of ${onnxPath} failed its check (${problem}); the model runs as exported`);
    await opened.close();
    return DecoderSession.open({ ...options, logitsToKeep: false });
  }

  emptyCache(rows: number): KvCache {
    return { handle: null, rows, length: 0 };
  }

  /** The cache of a single row repeated for `rows` rows (a batch that starts from the same prefix). */
  async tileCache(cache: KvCache, rows: number): Promise<KvCache> {
    if (rows === cache.rows) return cache;
    if (cache.rows !== 1) throw new Error(`tileCache expects one row, got ${cache.rows}`);
    if (cache.handle === null) return this.emptyCache(rows);
    // Onnxruntime takes no broadcast past: one copy per row, made once per batch, in the session's thread.
    return { handle: await this.session.tile(cache.handle, rows), rows, length: cache.length };
  }

  /**
   * The cache of its first `length` positions, in place of `cache` (consumed; a shared one cannot be): what a
   * pass that fed only those tokens would have left, for a caller that takes fed tokens back.
   */
  async truncateCache(cache: KvCache, length: number): Promise<KvCache> {
    if (cache.shared) throw new Error('a shared cache cannot be truncated');
    if (length === cache.length || cache.handle === null) return cache;
    return { handle: await this.session.truncate(cache.handle, length), rows: cache.rows, length };
  }

  /** Frees a cache nobody will feed again (one a pass returned); a shared one stays with its owner. */
  discard(cache: KvCache): void {
    if (cache.handle !== null && !cache.shared) this.session.drop(cache.handle);
  }

  /**
   * One pass. `read` keeps only the logits a decoder reads (see LogitsRead), with their best ids: the rest
   * never leaves the session's thread. Unset: every position, no best ids.
   * The returned cache stays in the session's thread; whoever holds it last discards it.
   */
  async forward(step: ForwardStep, cache: KvCache, read?: LogitsRead): Promise<{ logits: ort.Tensor; cache: KvCache }> {
    const { batch, sequenceLength } = step;
    const feeds: Record<string, ort.Tensor> = {
      ...(cache.handle === null ? this.emptyPast(batch) : {}),
      input_ids: new ort.Tensor('int64', step.inputIds, [batch, sequenceLength]),
      attention_mask: new ort.Tensor('int64', step.attentionMask, [batch, cache.length + sequenceLength]),
    };
    if (this.io.hasPositionIds) {
      feeds.position_ids = new ort.Tensor('int64', step.positionIds, [batch, sequenceLength]);
    }
    if (this.io.logitsToKeep) feeds[LOGITS_TO_KEEP] = keptPositions(Math.min(read?.positions ?? sequenceLength, sequenceLength));
    let run: SessionRun;
    try {
      run = await this.session.run(feeds, {
        ...(cache.handle !== null && { resident: { handle: cache.handle, release: !cache.shared } }),
        keep: this.presentToPast,
        ...(read && { keepLast: { output: 'logits', ...read } }),
      });
    } catch (error) {
      // The thread drops a consumed cache itself once a run reaches it; a run that failed before is covered here.
      this.discard(cache);
      throw new EngineError(EngineErrorCode.InferenceFailed, `onnxruntime failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { logits: run.outputs.logits, cache: { handle: run.handle!, rows: batch, length: cache.length + sequenceLength } };
  }

  /** How many caches the session's thread holds. */
  residentCaches(): Promise<number> {
    return this.session.residentCount();
  }

  /**
   * Why the rewritten model cannot be trusted, if it cannot: three tokens with every position kept, then with
   * the last one kept, must give that last position's logits both times (to rounding: a product over fewer rows
   * may take another kernel path; a wrong slice is off by whole units).
   */
  private async logitsToKeepProblem(): Promise<string | undefined> {
    const tokens = 3;
    const positions = BigInt64Array.from({ length: tokens }, (_, i) => BigInt(i));
    const step: ForwardStep = {
      batch: 1,
      sequenceLength: tokens,
      inputIds: positions,
      attentionMask: new BigInt64Array(tokens).fill(1n),
      positionIds: positions,
    };
    const logitsKeeping = async (read?: LogitsRead) => {
      const { logits, cache } = await this.forward(step, this.emptyCache(1), read);
      this.discard(cache);
      return logits;
    };
    try {
      const every = await logitsKeeping();
      const last = await logitsKeeping({ positions: 1 });
      const vocab = vocabularySize(every);
      if (every.dims.join() !== `1,${tokens},${vocab}` || last.dims.join() !== `1,1,${vocab}`) {
        return `logits of shape [${every.dims.join(', ')}] and [${last.dims.join(', ')}] for ${tokens} and 1 positions kept`;
      }
      const [expected, actual] = [lastPositionLogits(every), lastPositionLogits(last)];
      const tolerance = every.type === 'float16' ? 1e-2 : 1e-4;
      for (let id = 0; id < vocab; id++) {
        if (Math.abs(expected(id) - actual(id)) > tolerance * Math.max(1, Math.abs(expected(id))))
          return `token ${id}: ${actual(id)} instead of ${expected(id)}`;
      }
      return undefined;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private emptyPast(batch: number): Record<string, ort.Tensor> {
    const { kvDtype, kvHeads, headDim } = this.io;
    const empty = kvDtype === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    const tensors: Record<string, ort.Tensor> = {};
    for (const layer of this.io.layers) {
      tensors[layer.pastKey] = new ort.Tensor(kvDtype, empty, [batch, kvHeads, 0, headDim]);
      tensors[layer.pastValue] = new ort.Tensor(kvDtype, empty, [batch, kvHeads, 0, headDim]);
    }
    return tensors;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

/**
 * `cuda` must run on CUDA or fail loudly; only `auto` may fall back to the CPU, and says so.
 * onnxruntime-node ships the CPU provider; the CUDA provider is an install-time opt-in (README, GPU).
 */
async function createSession(
  onnxPath: string,
  preference: ProviderPreference,
  intraOpThreads: number,
  logger: EngineLogger,
  rewrites: RewriteRequest,
): Promise<{ session: ThreadedSession; provider: ExecutionProviderName }> {
  // The per-token product is a CPU kernel (com.microsoft MatMulIntegerToFloat).
  const cudaRewrites = { ...rewrites, perTokenInt8: false };
  const options = (provider: ExecutionProviderName): ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  });
  if (preference === 'cpu') {
    return { session: await openOrFail(onnxPath, options('cpu'), rewrites), provider: 'cpu' };
  }
  try {
    return { session: await ThreadedSession.create(onnxPath, options('cuda'), cudaRewrites), provider: 'cuda' };
  } catch (error) {
    const reason = (error as Error).message;
    if (preference === 'cuda') {
      throw new EngineError(
        EngineErrorCode.ProviderUnavailable,
        `the CUDA execution provider could not load (${reason}); install onnxruntime-node's CUDA binaries or set QWEN3GUARD_PROVIDER=cpu`,
        { cause: error },
      );
    }
    logger.warn(`CUDA execution provider unavailable (${reason}); QWEN3GUARD_PROVIDER=auto falls back to the CPU`);
    return { session: await openOrFail(onnxPath, options('cpu'), rewrites), provider: 'cpu' };
  }
}

async function openOrFail(onnxPath: string, options: ort.InferenceSession.SessionOptions, rewrites: RewriteRequest): Promise<ThreadedSession> {
  try {
    return await ThreadedSession.create(onnxPath, options, rewrites);
  } catch (error) {
    throw new EngineError(EngineErrorCode.ModelInvalid, `onnxruntime could not load ${onnxPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function attentionHeads(config: DecoderConfig): AttentionHeads {
  return {
    queryHeads: config.num_attention_heads,
    keyValueHeads: config.num_key_value_heads,
    headDim: headDimOf(config),
  };
}

function keptPositions(positions: number): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.of(BigInt(positions)), [1]);
}
