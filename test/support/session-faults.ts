import { ort, gatheredIds, withReadout, SessionRun, ThreadedSession } from '../../src/inference';

/** What the onnxruntime session does instead of its work. */
export type SessionFault = 'throw' | 'hang' | 'malformed';

/**
 * The fault-injection switch of the fault suites, and only of them: it wraps the onnxruntime session's `run`
 * (ThreadedSession, the session in its worker thread) inside the test process, so the real engine,
 * scheduler, observer, metrics and HTTP layer meet the fault exactly as they would meet a failing runtime.
 * Nothing in src/ can turn it on.
 *
 * - `throw`: every run rejects, as onnxruntime does on a kernel or allocation failure.
 * - `hang`: every run waits until the fault is cleared, then runs (a stuck device, a swapped-out host).
 * - `malformed`: every run returns logits that are all zero, so the model's answer is not the format.
 */
export class SessionFaults {
  private fault: SessionFault | undefined;
  private releaseHung: () => void = () => undefined;
  private hung: Promise<void> = Promise.resolve();
  private readonly spy: jest.SpyInstance;

  constructor() {
    const sessions = ThreadedSession.prototype;
    const original = sessions.run;
    const faults = this;
    this.spy = jest.spyOn(sessions, 'run').mockImplementation(async function (this: ThreadedSession, ...args: Parameters<ThreadedSession['run']>) {
      const run = () => original.apply(this, args);
      switch (faults.fault) {
        case 'throw':
          throw new Error('injected fault: the session failed');
        case 'hang':
          await faults.hung;
          return run();
        case 'malformed':
          return withZeroLogits(await run());
        default:
          return run();
      }
    });
  }

  inject(fault: SessionFault): void {
    this.clear();
    this.fault = fault;
    if (fault === 'hang') this.hung = new Promise((resolve) => (this.releaseHung = resolve));
  }

  /** The fault clears: runs behave again, and hung runs resume. */
  clear(): void {
    this.fault = undefined;
    this.releaseHung();
  }

  restore(): void {
    this.clear();
    this.spy.mockRestore();
  }
}

/** All-zero logits over the whole vocabulary: the same ids come back, each 0, and the best id everywhere is 0. */
function withZeroLogits(run: SessionRun): SessionRun {
  const logits = run.outputs.logits;
  const zero = new ort.Tensor('float32', new Float32Array(logits.size), logits.dims);
  withReadout(zero, new Int32Array(logits.size / logits.dims[logits.dims.length - 1]), gatheredIds(logits));
  return { ...run, outputs: { ...run.outputs, logits: zero } };
}
