import { BatchScheduler, BatchingOptions } from './batch-scheduler';

interface Item {
  key: string;
  value: number;
  tokens?: number;
}

function scheduler(options: Partial<BatchingOptions> = {}, run?: (items: Item[]) => Promise<number[]>) {
  const batches: Item[][] = [];
  const depths: number[] = [];
  const waits: number[] = [];
  const instance = new BatchScheduler<Item, number>({
    batching: { maxBatch: 4, maxBatchTokens: 0, maxWaitMs: 5, maxQueue: 10, maxQueueWaitMs: 0, ...options },
    keyOf: (item) => item.key,
    tokensOf: (item) => item.tokens ?? 1,
    runBatch:
      run ??
      (async (items) => {
        batches.push(items);
        await new Promise((resolve) => setTimeout(resolve, 10));
        return items.map((item) => item.value * 2);
      }),
    events: { queueDepth: (depth) => depths.push(depth), queueWait: (seconds) => waits.push(seconds) },
    queueFull: (reason) => new Error(`queue full: ${reason}`),
  });
  return { instance, batches, depths, waits };
}

const item = (value: number, key = 'prompt', tokens?: number): Item => ({ key, value, tokens });

describe('BatchScheduler', () => {
  it('coalesces concurrent submissions into one batch and returns results in order', async () => {
    const { instance, batches } = scheduler();
    const [a, b] = await Promise.all([instance.submit([item(1), item(2)]), instance.submit([item(3)])]);
    expect(a).toEqual([2, 4]);
    expect(b).toEqual([6]);
    expect(batches.map((batch) => batch.map((i) => i.value))).toEqual([[1, 2, 3]]);
  });

  it('never exceeds maxBatch', async () => {
    const { instance, batches } = scheduler({ maxBatch: 2 });
    await instance.submit([1, 2, 3, 4, 5].map((v) => item(v)));
    expect(batches.map((batch) => batch.length)).toEqual([2, 2, 1]);
  });

  it('keeps rows x longest row within maxBatchTokens, in order, and runs an item over it alone', async () => {
    const { instance, batches } = scheduler({ maxBatch: 8, maxBatchTokens: 1000 });
    const lengths = [100, 200, 300, 400, 1500, 50, 50];
    await instance.submit(lengths.map((tokens, i) => item(i, 'prompt', tokens)));
    // [100, 200, 300]: 3 x 300 = 900; adding 400 would make 4 x 400. Then 400 (2 x 1500 > 1000), 1500 alone, the two 50s.
    expect(batches.map((batch) => batch.map((i) => i.tokens))).toEqual([[100, 200, 300], [400], [1500], [50, 50]]);
  });

  it('keeps one key per batch, starting from the oldest waiting item', async () => {
    const { instance, batches } = scheduler();
    await Promise.all([instance.submit([item(1, 'prompt'), item(2, 'response'), item(3, 'prompt')])]);
    expect(batches.map((batch) => batch.map((i) => i.key))).toEqual([['prompt', 'prompt'], ['response']]);
  });

  it('rejects at once when the queue is full, and accepts again once it drains', async () => {
    const { instance } = scheduler({ maxQueue: 3 });
    const accepted = instance.submit([item(1), item(2), item(3)]);
    await expect(instance.submit([item(4)])).rejects.toThrow('queue full: more than 3 inputs would be waiting');
    await accepted;
    await expect(instance.submit([item(5)])).resolves.toEqual([10]);
  });

  it('refuses work the waiting items would keep past maxQueueWaitMs at the measured rate, and accepts it once they ran', async () => {
    // One item per batch, 200 ms each: five waiting items are about 1 s of work, one is about 200 ms.
    const slow = async (items: Item[]) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return items.map((i) => i.value);
    };
    const { instance } = scheduler({ maxBatch: 1, maxWaitMs: 0, maxQueue: 100, maxQueueWaitMs: 500 }, slow);
    // Nothing measured yet: the rate is unknown, so a full backlog is still accepted.
    const backlog = instance.submit([1, 2, 3, 4, 5, 6].map((v) => item(v)));
    await new Promise((resolve) => setTimeout(resolve, 250)); // the first batch has run, the second runs: 4 wait
    await expect(instance.submit([item(7)])).rejects.toThrow(/queue full: the [3-5] inputs already waiting would take about \d+ ms, over the 500 ms/);
    await backlog;
    const shortQueue = instance.submit([item(8)]);
    await expect(instance.submit([item(9)])).resolves.toEqual([9]);
    await expect(shortQueue).resolves.toEqual([8]);
  });

  it('fails every item of a failed batch and keeps serving the next ones', async () => {
    let calls = 0;
    const { instance } = scheduler({}, async (items) => {
      calls += 1;
      if (calls === 1) throw new Error('boom');
      return items.map((i) => i.value);
    });
    await expect(instance.submit([item(1)])).rejects.toThrow('boom');
    await expect(instance.submit([item(7)])).resolves.toEqual([7]);
  });

  it('reports queue depth and each item’s wait', async () => {
    const { instance, depths, waits } = scheduler();
    await instance.submit([item(1), item(2)]);
    expect(depths[0]).toBe(2);
    expect(depths[depths.length - 1]).toBe(0);
    expect(waits).toHaveLength(2);
    waits.forEach((seconds) => expect(seconds).toBeGreaterThanOrEqual(0));
  });

  it('drains everything accepted', async () => {
    const { instance, batches } = scheduler({ maxBatch: 1 });
    void instance.submit([item(1), item(2)]);
    await instance.drain();
    expect(batches).toHaveLength(2);
  });
});

describe('BatchScheduler per-item failures', () => {
  it('fails only the items whose result is an Error', async () => {
    const instance = new BatchScheduler<number, number>({
      batching: { maxBatch: 4, maxBatchTokens: 0, maxWaitMs: 5, maxQueue: 10, maxQueueWaitMs: 0 },
      keyOf: () => 'same',
      tokensOf: () => 1,
      runBatch: async (items) => items.map((value) => (value < 0 ? new Error(`bad ${value}`) : value)),
      events: { queueDepth: () => undefined, queueWait: () => undefined },
      queueFull: () => new Error('queue full'),
    });
    const [good, bad] = await Promise.allSettled([instance.submit([1]), instance.submit([-1])]);
    expect(good).toEqual({ status: 'fulfilled', value: [1] });
    expect(bad).toMatchObject({ status: 'rejected', reason: new Error('bad -1') });
  });
});
