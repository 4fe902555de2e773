import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { withBestIds } from '../logits';
import { KeepLastPositions, SessionDescription, SessionReply, UnsentRequest } from './session-messages';
import { fromWire, toWire } from './wire-tensors';

interface Pending {
  resolve: (reply: SessionReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

/**
 * An onnxruntime session in a worker thread of its own, used like the session itself: created from a file,
 * its I/O declared up front, `run` returning the outputs. A forward pass of a 0.6B model takes seconds on a
 * CPU; on the main thread it would stall every other request, health probes included, for that long.
 *
 * Inputs are copied to the thread, except the buffers the caller hands over in `transfer` (it must not use
 * them again); outputs come back transferred. One session per thread, one run at a time, as the engine uses it.
 */
export class ThreadedSession implements SessionDescription {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | undefined;
  private description!: SessionDescription;

  private constructor(private readonly worker: Worker) {
    // An idle session thread never keeps the process alive on its own (a test or a CLI run that forgot to
    // close the engine still exits); while a request is waiting for it, it does.
    this.worker.unref();
    this.listen();
  }

  get inputNames(): readonly string[] {
    return this.description.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.description.outputNames;
  }

  get inputMetadata(): SessionDescription['inputMetadata'] {
    return this.description.inputMetadata;
  }

  get outputMetadata(): SessionDescription['outputMetadata'] {
    return this.description.outputMetadata;
  }

  /** Starts the thread and creates the session there; rejects with onnxruntime's own message when it cannot. */
  static async create(onnxPath: string, options: ort.InferenceSession.SessionOptions): Promise<ThreadedSession> {
    const session = new ThreadedSession(startThread());
    try {
      session.description = (await session.request({ kind: 'create', onnxPath, options })).description!;
      return session;
    } catch (error) {
      await session.worker.terminate();
      throw error;
    }
  }

  async run(feeds: Record<string, ort.Tensor>, transfer: readonly ArrayBuffer[] = [], keepLast?: KeepLastPositions): Promise<Record<string, ort.Tensor>> {
    const { outputs, bestIds } = await this.request({ kind: 'run', feeds: toWire(feeds), ...(keepLast && { keepLast }) }, transfer);
    const tensors = fromWire(outputs!);
    if (keepLast && bestIds) withBestIds(tensors[keepLast.output], bestIds);
    return tensors;
  }

  async release(): Promise<void> {
    if (!this.failure) await this.request({ kind: 'release' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private listen(): void {
    this.worker.on('message', (reply: SessionReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(new Error(reply.message));
    });
    // A thread that dies (out of memory, a native crash in a kernel) fails what was waiting, and every later run.
    const fail = (error: Error) => {
      this.failure = error;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the onnxruntime thread exited (code ${code})`)));
  }

  private request(message: UnsentRequest, transfer: readonly ArrayBuffer[] = []): Promise<SessionReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, [...transfer]);
    });
  }
}

/**
 * The thread runs session-thread's compiled JavaScript next to this file; from the TypeScript sources (tests,
 * `tsx`) it registers tsx in the thread first. tsx is a development dependency only, never needed by dist/.
 */
function startThread(): Worker {
  const fromSources = __filename.endsWith('.ts');
  const entry = join(__dirname, fromSources ? 'session-thread.ts' : 'session-thread.js');
  const bootstrap = `${fromSources ? "require('tsx/cjs/api').register();" : ''} require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true });
}
