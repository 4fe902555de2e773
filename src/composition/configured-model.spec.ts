import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAppConfig } from '../config/load-app-config';
import { configuredModel, engineOptions } from './configured-model';

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

  it('reads each KV head once unless told otherwise, and never in exact mode', () => {
    const env = { XDG_CACHE_HOME: '/var/cache' };
    expect(engineOptions(loadAppConfig(env), '/models/demo').groupedAttention).toBe(true);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_GROUPED_ATTENTION: 'false' }), '/models/demo').groupedAttention).toBe(false);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_EXACT: 'true' }), '/models/demo').groupedAttention).toBe(false);
  });

  it('masks attention with a finite number unless told otherwise, and never in exact mode', () => {
    const env = { XDG_CACHE_HOME: '/var/cache' };
    expect(engineOptions(loadAppConfig(env), '/models/demo').finiteAttentionMask).toBe(true);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_FINITE_ATTENTION_MASK: 'false' }), '/models/demo').finiteAttentionMask).toBe(false);
    expect(engineOptions(loadAppConfig({ ...env, QWEN3GUARD_EXACT: 'true' }), '/models/demo').finiteAttentionMask).toBe(false);
  });
});

describe('configuredModel, before the engine has loaded', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'configured-model-'));
    mkdirSync(join(dir, 'onnx'));
    writeFileSync(join(dir, 'onnx/model.onnx'), '');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const dtypeFor = (env: Record<string, string>) => configuredModel(loadAppConfig({ XDG_CACHE_HOME: '/var/cache', ...env })).dtype;

  it('names the dtype the engine will take: int8 on CPU where the directory has it, else fp32; QWEN3GUARD_DTYPE wins', () => {
    expect(dtypeFor({ QWEN3GUARD_MODEL_DIR: dir })).toBe('fp32');
    writeFileSync(join(dir, 'onnx/model_quantized.onnx'), '');
    expect(dtypeFor({ QWEN3GUARD_MODEL_DIR: dir })).toBe('quantized');
    expect(dtypeFor({ QWEN3GUARD_MODEL_DIR: dir, QWEN3GUARD_PROVIDER: 'cuda' })).toBe('fp32');
    expect(dtypeFor({ QWEN3GUARD_MODEL_DIR: dir, QWEN3GUARD_DTYPE: 'fp16' })).toBe('fp16');
  });

  it('names fp32 for the demo model, which has no int8 file', () => {
    expect(dtypeFor({})).toBe('fp32');
  });
});
