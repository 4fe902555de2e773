import type { InferenceSession, Tensor } from 'onnxruntime-node';
import type { AppliedRewrites, RewriteName, RewriteRequest } from '../model-rewrites';

/** A tensor as it crosses the thread boundary: its typed array is structured-cloned (or transferred). */
export interface WireTensor {
  type: Tensor.Type;
  dims: readonly number[];
  data: Tensor.DataType;
}

export type WireTensors = Record<string, WireTensor>;

/** What the session declares about its inputs and outputs, read once when it is created. */
export interface SessionDescription {
  inputNames: readonly string[];
  outputNames: readonly string[];
  inputMetadata: InferenceSession['inputMetadata'];
  outputMetadata: InferenceSession['outputMetadata'];
  /** Why an asked-for load-time rewrite (model-rewrites.ts) does not apply: the model runs without it. */
  rewriteSkipped: Partial<Record<RewriteName, string>>;
  /** What the rewrites that applied changed. */
  applied: AppliedRewrites;
}

/**
 * Keep only the last `positions` of an output's second axis (`[batch, sequence, ...]`): a prefill's logits
 * are batch x sequence x vocabulary floats (hundreds of MB), of which the decoder reads the last few positions.
 * The thread also returns the best id of each kept position (`bestIds`), so the event loop never scans them.
 */
export interface KeepLastPositions {
  output: string;
  positions: number;
  /**
   * Only these vocabulary ids' values go back, in this order (the best ids are still found over the whole
   * vocabulary): a decoder that reads a few dozen ids then moves kilobytes instead of MBs a pass.
   */
  ids?: readonly number[];
}

/**
 * Tensors that stay in the session's thread between runs (a KV cache: tens of MB per row and pass), known
 * to the caller by a handle only. Moving them to the event loop's thread and back each pass made V8 collect
 * the main heap for their external memory, pausing the event loop for up to 160 ms.
 */
export interface ResidentFeeds {
  handle: number;
  /** Dropped once this run has them: the caller will not feed them again. */
  release: boolean;
}

export interface RunRequest {
  feeds: WireTensors;
  /** Resident tensors added to `feeds`. */
  resident?: ResidentFeeds;
  /** Outputs kept resident instead of sent back, each under the input name it will feed (output → input). */
  keep?: Record<string, string>;
  keepLast?: KeepLastPositions;
}

export type SessionRequest =
  /** `rewrites`: applied to the model first, where its graph allows. */
  | { id: number; kind: 'create'; onnxPath: string; options: InferenceSession.SessionOptions; rewrites: RewriteRequest }
  | ({ id: number; kind: 'run' } & RunRequest)
  /** A resident set with its first axis repeated `rows` times (a batch starting from one cached prefix). */
  | { id: number; kind: 'tile'; handle: number; rows: number }
  /** A resident cache cut back to its first `length` positions, as a new set in place of the old one. */
  | { id: number; kind: 'truncate'; handle: number; length: number }
  | { id: number; kind: 'drop'; handle: number }
  | { id: number; kind: 'count-resident' }
  | { id: number; kind: 'release' };

/** A request before the client numbers it. */
export type UnsentRequest = SessionRequest extends infer Request ? (Request extends SessionRequest ? Omit<Request, 'id'> : never) : never;

export type SessionReply =
  | {
      id: number;
      ok: true;
      description?: SessionDescription;
      outputs?: WireTensors;
      bestIds?: Int32Array;
      /** The resident set a run kept, a tile or a truncation made. */
      handle?: number;
      residentCount?: number;
    }
  | { id: number; ok: false; message: string };
