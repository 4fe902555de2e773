import * as ort from 'onnxruntime-node';
import { DecoderIo, discoverDecoderIo } from './decoder-io';
import { EngineError, EngineErrorCode } from './engine-error';
import { DecoderConfig } from './model-directory';
import { ExecutionProviderName } from './moderation-engine';
import { EngineLogger, ProviderPreference } from './onnx-engine-options';
import { ThreadedSession } from './session-thread/threaded-session';
import { buffersOf } from './session-thread/wire-tensors';

/** The keys and values of every layer for the tokens seen so far, as the model returned them. */
export interface KvCache {
  tensors: Record<string, ort.Tensor>;
  length: number;
  /**
   * Kept for later batches (the prefix cache): a forward pass copies it to the session's thread. Any other
   * cache is consumed by the pass that takes it: its buffers are handed over, not copied.
   */
  shared?: boolean;
}

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
export class DecoderSession {
  private constructor(
    private readonly session: ThreadedSession,
    readonly io: DecoderIo,
    readonly provider: ExecutionProviderName,
  ) {}

  static async open(
    onnxPath: string,
    config: DecoderConfig,
    preference: ProviderPreference,
    intraOpThreads: number,
    logger: EngineLogger,
  ): Promise<DecoderSession> {
    const { session, provider } = await createSession(onnxPath, preference, intraOpThreads, logger);
    return new DecoderSession(session, discoverDecoderIo(session, config), provider);
  }

  emptyCache(batch: number): KvCache {
    const { kvDtype, kvHeads, headDim } = this.io;
    const empty = kvDtype === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    const tensors: Record<string, ort.Tensor> = {};
    for (const layer of this.io.layers) {
      tensors[layer.pastKey] = new ort.Tensor(kvDtype, empty, [batch, kvHeads, 0, headDim]);
      tensors[layer.pastValue] = new ort.Tensor(kvDtype, empty, [batch, kvHeads, 0, headDim]);
    }
    return { tensors, length: 0 };
  }

  /**
   * The cache of a single row repeated for `batch` rows (a batch that starts from the same prefix).
   * Onnxruntime takes no broadcast past, so this is one copy per row, made once per batch.
   */
  tileCache(cache: KvCache, batch: number): KvCache {
    if (batch === 1) return cache;
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(cache.tensors)) {
      const [rows, heads, length, dim] = tensor.dims;
      if (rows !== 1) throw new Error(`tileCache expects one row, got ${rows}`);
      const source = tensor.data as Float32Array | Uint16Array;
      const tiled = new (source.constructor as Float32ArrayConstructor | Uint16ArrayConstructor)(source.length * batch);
      for (let row = 0; row < batch; row++) tiled.set(source, row * source.length);
      tensors[name] = new ort.Tensor(tensor.type as 'float32' | 'float16', tiled, [batch, heads, length, dim]);
    }
    return { tensors, length: cache.length };
  }

  /**
   * One pass. `logitPositions` keeps only the logits of each row's last positions (the ones a decoder reads),
   * with their best ids: the rest never leaves the session's thread. Unset: every position, no best ids.
   */
  async forward(step: ForwardStep, cache: KvCache, logitPositions?: number): Promise<{ logits: ort.Tensor; cache: KvCache }> {
    const { batch, sequenceLength } = step;
    const feeds: Record<string, ort.Tensor> = {
      ...cache.tensors,
      input_ids: new ort.Tensor('int64', step.inputIds, [batch, sequenceLength]),
      attention_mask: new ort.Tensor('int64', step.attentionMask, [batch, cache.length + sequenceLength]),
    };
    if (this.io.hasPositionIds) {
      feeds.position_ids = new ort.Tensor('int64', step.positionIds, [batch, sequenceLength]);
    }
    let outputs: Record<string, ort.Tensor>;
    try {
      outputs = await this.session.run(feeds, cache.shared ? [] : buffersOf(cache.tensors), logitPositions === undefined ? undefined : { output: 'logits', positions: logitPositions });
    } catch (error) {
      throw new EngineError(EngineErrorCode.InferenceFailed, `onnxruntime failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const tensors: Record<string, ort.Tensor> = {};
    for (const layer of this.io.layers) {
      tensors[layer.pastKey] = outputs[layer.presentKey] as ort.Tensor;
      tensors[layer.pastValue] = outputs[layer.presentValue] as ort.Tensor;
    }
    return { logits: outputs.logits as ort.Tensor, cache: { tensors, length: cache.length + sequenceLength } };
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
): Promise<{ session: ThreadedSession; provider: ExecutionProviderName }> {
  const options = (provider: ExecutionProviderName): ort.InferenceSession.SessionOptions => ({
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    ...(intraOpThreads > 0 ? { intraOpNumThreads: intraOpThreads } : {}),
  });
  if (preference === 'cpu') {
    return { session: await openOrFail(onnxPath, options('cpu')), provider: 'cpu' };
  }
  try {
    return { session: await ThreadedSession.create(onnxPath, options('cuda')), provider: 'cuda' };
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
    return { session: await openOrFail(onnxPath, options('cpu')), provider: 'cpu' };
  }
}

async function openOrFail(onnxPath: string, options: ort.InferenceSession.SessionOptions): Promise<ThreadedSession> {
  try {
    return await ThreadedSession.create(onnxPath, options);
  } catch (error) {
    throw new EngineError(EngineErrorCode.ModelInvalid, `onnxruntime could not load ${onnxPath}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

