import { loadAppConfig } from '../config/load-app-config';
import { engineOptions } from './configured-model';

describe('engineOptions', () => {
  it('passes the queue bounds to the engine, in exact mode too', () => {
    const env = { XDG_CACHE_HOME: '/var/cache', QWEN3GUARD_MAX_QUEUE: '12', QWEN3GUARD_MAX_QUEUE_WAIT_MS: '750' };
    const fast = engineOptions(loadAppConfig(env), '/models/demo');
    const exact = engineOptions(loadAppConfig({ ...env, QWEN3GUARD_EXACT: 'true' }), '/models/demo');
    expect(fast.batching).toMatchObject({ maxQueue: 12, maxQueueWaitMs: 750, maxBatch: 8, maxBatchTokens: 8192 });
    expect(exact.batching).toMatchObject({ maxQueue: 12, maxQueueWaitMs: 750, maxBatch: 1 });
    expect(exact.constrainedDecoding).toBe(false);
  });

  it('computes the LM head on the positions read unless told otherwise, and never in exact mode', () => {
    const env = { XDG_CACHE_HOME: '/var/cache' };
    expect(engineOptions(loadAppConfig(env), '/models/demo').logitsToKeep).toBe(true);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_LOGITS_TO_KEEP: 'false' }), '/models/demo').logitsToKeep).toBe(false);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_EXACT: 'true' }), '/models/demo').logitsToKeep).toBe(false);
  });
});
