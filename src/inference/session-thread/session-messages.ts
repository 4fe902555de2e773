import type { InferenceSession, Tensor } from 'onnxruntime-node';

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
}

/**
 * Keep only the last `positions` of an output's second axis (`[batch, sequence, ...]`): a prefill's logits
 * are batch x sequence x vocabulary floats (hundreds of MB), of which the decoder reads the last few positions.
 * The thread also returns the best id of each kept position (`bestIds`), so the event loop never scans them.
 */
export interface KeepLastPositions {
  output: string;
  positions: number;
}

export type SessionRequest =
  | { id: number; kind: 'create'; onnxPath: string; options: InferenceSession.SessionOptions }
  | { id: number; kind: 'run'; feeds: WireTensors; keepLast?: KeepLastPositions }
  | { id: number; kind: 'release' };

/** A request before the client numbers it. */
export type UnsentRequest = SessionRequest extends infer Request ? (Request extends SessionRequest ? Omit<Request, 'id'> : never) : never;

export type SessionReply =
  | { id: number; ok: true; description?: SessionDescription; outputs?: WireTensors; bestIds?: Int32Array }
  | { id: number; ok: false; message: string };
