import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { ort } from '../onnxruntime';
import { withReadout } from '../logits';
import { AppliedRewrites, RewriteRequest } from '../model-rewrites';
import { RunRequest, SessionDescription, SessionReply, UnsentRequest } from './session-messages';
import { fromWire, toWire } from './wire-tensors';

export interface SessionRun {
  outputs: Record<string, ort.Tensor>;
  /** The resident set holding the outputs the run was asked to keep. */
  handle?: number;
}

interface Pending {
  resolve: (reply: SessionReply & { ok: true }) => void;
  reject: (error: Error) => void;
}

/**
 * An onnxruntime session in a worker thread of its own, used like the session itself: created from a file,
 * its I/O declared up front, `run` returning the outputs. A forward pass of a 0.6B model takes seconds on a
 * CPU; on the main thread it would stall every other request, health probes included, for that long.
 *
 * Inputs are copied to the thread; outputs come back transferred, or stay in the thread as resident tensors
 * when the caller asks (the KV cache). One session per thread, one run at a time, as the engine uses it.
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

  get rewriteSkipped(): SessionDescription['rewriteSkipped'] {
    return this.description.rewriteSkipped;
  }

  get applied(): AppliedRewrites {
    return this.description.applied;
  }

  /**
   * Starts the thread and creates the session there; rejects with onnxruntime's own message when it cannot.
   * `rewrites`: applied where the graph allows (`rewriteSkipped` says which did not, and why). Default: none.
   */
  static async create(
    onnxPath: string,
    options: ort.InferenceSession.SessionOptions,
    rewrites: RewriteRequest = { logitsToKeep: false, perTokenInt8: false },
  ): Promise<ThreadedSession> {
    const session = new ThreadedSession(startThread());
    try {
      session.description = (await session.request({ kind: 'create', onnxPath, options, rewrites })).description!;
      return session;
    } catch (error) {
      await session.worker.terminate();
      throw error;
    }
  }

  /** One run; `options` say which resident tensors it adds and which outputs it keeps resident (`handle`). */
  async run(feeds: Record<string, ort.Tensor>, options: Omit<RunRequest, 'feeds'> = {}): Promise<SessionRun> {
    const { outputs, bestIds, handle } = await this.request({ kind: 'run', feeds: toWire(feeds), ...options });
    const tensors = fromWire(outputs!);
    if (options.keepLast && bestIds) withReadout(tensors[options.keepLast.output], bestIds, options.keepLast.ids);
    return { outputs: tensors, ...(handle !== undefined && { handle }) };
  }

  /** A resident single-row set repeated for `rows` rows, as a new resident set. */
  async tile(handle: number, rows: number): Promise<number> {
    return (await this.request({ kind: 'tile', handle, rows })).handle!;
  }

  /** A resident cache cut back to its first `length` positions, as a new resident set in place of `handle`'s. */
  async truncate(handle: number, length: number): Promise<number> {
    return (await this.request({ kind: 'truncate', handle, length })).handle!;
  }

  /** Frees a resident set (no reply awaited: the thread takes messages in order). */
  drop(handle: number): void {
    if (!this.failure) this.worker.postMessage({ kind: 'drop', handle, id: this.nextId++ });
  }

  /** How many resident sets the thread holds (tests check that nothing is left behind). */
  async residentCount(): Promise<number> {
    return (await this.request({ kind: 'count-resident' })).residentCount!;
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

  private request(message: UnsentRequest): Promise<SessionReply & { ok: true }> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
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
  // tsx resolved from here, not from the worker's working directory (a CLI run may start outside the clone).
  const bootstrap = `${fromSources ? `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();` : ''} require(${JSON.stringify(entry)});`;
  return new Worker(bootstrap, { eval: true });
}
