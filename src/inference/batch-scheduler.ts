/** How the scheduler forms batches. */
export interface BatchingOptions {
  /** Most items in one batch. */
  maxBatch: number;
  /**
   * Most tokens one batch may hold once its rows are padded to the longest (rows x longest row): what its KV
   * cache and activations grow with. An item over it alone still runs, alone. 0: no limit.
   */
  maxBatchTokens: number;
  /** How long the first item of a batch waits for company once the session is free. */
  maxWaitMs: number;
  /** Most items waiting; beyond it `submit` rejects at once (the caller answers 503 + Retry-After). */
  maxQueue: number;
  /**
   * Longest a new submission may expect to wait before its first batch starts: the full batches the items
   * already waiting make, each as long as recent batches took. Beyond it `submit` rejects at once, so under
   * overload accepted items wait at most about this long, whatever `maxQueue` allows. 0: no limit.
   */
  maxQueueWaitMs: number;
}

/** Weight of the newest batch in the running estimate of a batch's duration. */
const SMOOTHING = 0.3;

interface Pending<T, R> {
  item: T;
  enqueuedAt: number;
  resolve: (result: R) => void;
  reject: (error: unknown) => void;
}

export interface BatchEvents {
  queueDepth(depth: number): void;
  queueWait(seconds: number): void;
}

/** What a scheduler batches with: how batches form, what an item's key and size are, how a batch runs. */
export interface BatchSchedulerOptions<T, R> {
  batching: BatchingOptions;
  /** Items of one batch share this key (the moderation mode, which decides the cached prefix). */
  keyOf: (item: T) => string;
  /** An item's length in tokens, for maxBatchTokens. */
  tokensOf: (item: T) => number;
  /** One result per item, in order; an Error fails that item alone. */
  runBatch: (items: T[]) => Promise<Array<R | Error>>;
  events: BatchEvents;
  /** The error a refused submission gets, with the reason. */
  queueFull: (reason: string) => Error;
}

/**
 * Dynamic batching over one session: items from concurrent callers coalesce into batches of up to
 * `maxBatch`, formed after at most `maxWaitMs`, and run one batch at a time. Items of one batch share a
 * key (the moderation mode, which decides the cached prefix), taken from the oldest waiting item so no
 * item is starved. A full queue, or one that would take too long to reach new work, rejects it at once
 * instead of letting latency grow without bound.
 */
export class BatchScheduler<T, R> {
  private readonly waiting: Array<Pending<T, R>> = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  /**
   * How long a batch takes, over recent batches; unknown until one has run. Per batch rather than per item:
   * a batch costs about the same whatever its size on an accelerator (and on a small model), and when the
   * queue is long, which is when the estimate matters, the batches ahead are full.
   */
  private batchSeconds: number | undefined;

  private readonly batching: BatchingOptions;
  private readonly keyOf: BatchSchedulerOptions<T, R>['keyOf'];
  private readonly tokensOf: BatchSchedulerOptions<T, R>['tokensOf'];
  private readonly runBatch: BatchSchedulerOptions<T, R>['runBatch'];
  private readonly events: BatchEvents;
  private readonly queueFull: BatchSchedulerOptions<T, R>['queueFull'];

  constructor({ batching, keyOf, tokensOf, runBatch, events, queueFull }: BatchSchedulerOptions<T, R>) {
    this.batching = batching;
    this.keyOf = keyOf;
    this.tokensOf = tokensOf;
    this.runBatch = runBatch;
    this.events = events;
    this.queueFull = queueFull;
  }

  get depth(): number {
    return this.waiting.length;
  }

  /**
   * Throws the queue-full error when `count` more items would be refused now: callers that prepare items
   * at a cost (tokenizing) check first, so that under overload refusals stay cheap.
   */
  admit(count: number): void {
    const refusal = this.refusalFor(count);
    if (refusal) throw this.queueFull(refusal);
  }

  /** Results in the order of `items`; rejects as a whole if any of them fails. */
  submit(items: T[]): Promise<R[]> {
    try {
      this.admit(items.length);
    } catch (error) {
      return Promise.reject(error);
    }
    const enqueuedAt = performance.now();
    const results = items.map((item) => new Promise<R>((resolve, reject) => this.waiting.push({ item, enqueuedAt, resolve, reject })));
    this.events.queueDepth(this.waiting.length);
    this.schedule();
    return Promise.all(results);
  }

  /** Why `count` more items cannot join the queue now, if they cannot. */
  private refusalFor(count: number): string | undefined {
    const { maxQueue, maxQueueWaitMs } = this.batching;
    if (this.waiting.length + count > maxQueue) return `more than ${maxQueue} inputs would be waiting`;
    if (maxQueueWaitMs <= 0 || this.batchSeconds === undefined || this.waiting.length === 0) return undefined;
    const expectedWaitMs = Math.ceil(this.waiting.length / this.batching.maxBatch) * this.batchSeconds * 1000;
    if (expectedWaitMs <= maxQueueWaitMs) return undefined;
    return `the ${this.waiting.length} inputs already waiting would take about ${Math.round(expectedWaitMs)} ms, over the ${maxQueueWaitMs} ms queue wait limit`;
  }

  /** Resolves once everything accepted so far has run. */
  async drain(): Promise<void> {
    while (this.running || this.waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  private schedule(): void {
    if (this.running || this.waiting.length === 0) return;
    if (this.waiting.length >= this.batching.maxBatch || this.batching.maxWaitMs <= 0) {
      this.startNext();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.startNext(), this.batching.maxWaitMs);
    }
  }

  private startNext(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || this.waiting.length === 0) return;
    const batch = this.takeBatch();
    this.running = true;
    void this.run(batch).finally(() => {
      this.running = false;
      this.schedule();
    });
  }

  private takeBatch(): Array<Pending<T, R>> {
    const { maxBatch, maxBatchTokens } = this.batching;
    const key = this.keyOf(this.waiting[0].item);
    const batch: Array<Pending<T, R>> = [];
    let longest = 0;
    for (let i = 0; i < this.waiting.length && batch.length < maxBatch;) {
      const { item } = this.waiting[i];
      if (this.keyOf(item) !== key) {
        i++;
        continue;
      }
      const width = Math.max(longest, this.tokensOf(item));
      // In order: an item that does not fit ends the batch rather than letting later ones pass it.
      if (batch.length > 0 && maxBatchTokens > 0 && (batch.length + 1) * width > maxBatchTokens) break;
      longest = width;
      batch.push(...this.waiting.splice(i, 1));
    }
    const now = performance.now();
    for (const pending of batch) this.events.queueWait((now - pending.enqueuedAt) / 1000);
    this.events.queueDepth(this.waiting.length);
    return batch;
  }

  private async run(batch: Array<Pending<T, R>>): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.runBatch(batch.map((pending) => pending.item));
      this.measureBatch((performance.now() - started) / 1000);
      batch.forEach((pending, i) => (results[i] instanceof Error ? pending.reject(results[i]) : pending.resolve(results[i])));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    }
  }

  private measureBatch(seconds: number): void {
    this.batchSeconds = this.batchSeconds === undefined ? seconds : SMOOTHING * seconds + (1 - SMOOTHING) * this.batchSeconds;
  }
}
