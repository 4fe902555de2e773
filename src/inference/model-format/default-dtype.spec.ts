import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultDirectoryDtype, defaultDtype } from './default-dtype';

describe('defaultDtype (QWEN3GUARD_DTYPE unset)', () => {
  const having =
    (...paths: string[]) =>
    (path: string) =>
      paths.includes(path);

  it('prefers the int8 file on the CPU provider: model_quantized first, then model_int8, at either place', () => {
    expect(defaultDtype('cpu', having('onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_int8.onnx')).dtype).toBe('quantized');
    expect(defaultDtype('cpu', having('onnx/model.onnx', 'onnx/model_int8.onnx')).dtype).toBe('int8');
    expect(defaultDtype('cpu', having('model_quantized.onnx')).dtype).toBe('quantized');
  });

  it('keeps fp32 on CPU when the model has no int8 file (q4f16 and fp16 are not int8)', () => {
    expect(defaultDtype('cpu', having('onnx/model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4f16.onnx'))).toEqual({
      dtype: 'fp32',
      reason: 'the default on CPU: the model has no int8 file',
    });
    expect(defaultDtype('cpu', having('model.onnx')).dtype).toBe('fp32');
  });

  it('keeps fp32 on cuda and auto, int8 file or not', () => {
    for (const provider of ['cuda', 'auto'] as const) {
      expect(defaultDtype(provider, having('onnx/model.onnx', 'onnx/model_quantized.onnx'))).toEqual({
        dtype: 'fp32',
        reason: `the default on the ${provider} provider`,
      });
    }
  });

  it('looks at a model directory on disk', () => {
    const root = mkdtempSync(join(tmpdir(), 'default-dtype-'));
    try {
      mkdirSync(join(root, 'onnx'));
      writeFileSync(join(root, 'onnx/model.onnx'), '');
      expect(defaultDirectoryDtype(root, 'cpu').dtype).toBe('fp32');
      writeFileSync(join(root, 'onnx/model_quantized.onnx'), '');
      expect(defaultDirectoryDtype(root, 'cpu')).toEqual({ dtype: 'quantized', reason: 'the default on CPU where int8 weights exist' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
