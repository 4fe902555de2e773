import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineErrorCode } from '../engine-error';
import { readModelDirectory } from './model-directory';

describe('readModelDirectory', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'model-dir-'));
    writeFileSync(join(root, 'config.json'), JSON.stringify({ num_hidden_layers: 2, eos_token_id: 151645 }));
    writeFileSync(join(root, 'tokenizer.json'), '{}');
    writeFileSync(join(root, 'tokenizer_config.json'), JSON.stringify({ chat_template: 'from-config' }));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const touch = (relative: string, content = '') => {
    mkdirSync(join(root, relative, '..'), { recursive: true });
    writeFileSync(join(root, relative), content);
  };
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return (error as { code: string }).code;
    }
    return 'no error';
  };

  it('picks the optimum file for the dtype', () => {
    touch('onnx/model.onnx');
    touch('onnx/model_fp16.onnx');
    expect(readModelDirectory(root, 'fp16').onnxPath).toBe(join(root, 'onnx/model_fp16.onnx'));
    expect(readModelDirectory(root, 'fp32').onnxPath).toBe(join(root, 'onnx/model.onnx'));
  });

  it('falls back to a top-level genai model.onnx and says the dtype is not from the name', () => {
    touch('model.onnx');
    const directory = readModelDirectory(root, 'q4f16');
    expect(directory.onnxPath).toBe(join(root, 'model.onnx'));
    expect(directory.dtypeFromFileName).toBe(false);
  });

  it('prefers chat_template.jinja over tokenizer_config.json', () => {
    touch('model.onnx');
    expect(readModelDirectory(root, 'fp32').chatTemplate).toBe('from-config');
    touch('chat_template.jinja', 'from-jinja');
    expect(readModelDirectory(root, 'fp32').chatTemplate).toBe('from-jinja');
  });

  it('reads generation_config.json when present', () => {
    touch('model.onnx');
    expect(readModelDirectory(root, 'fp32').generationConfig).toBeNull();
    touch('generation_config.json', JSON.stringify({ eos_token_id: [151645, 151643] }));
    expect(readModelDirectory(root, 'fp32').generationConfig?.eos_token_id).toEqual([151645, 151643]);
  });

  describe('an onnxruntime-genai folder (genai_config.json, no config.json)', () => {
    const genaiConfig = {
      model: {
        context_length: 40960,
        eos_token_id: 151645,
        decoder: { head_size: 128, hidden_size: 1024, num_attention_heads: 16, num_hidden_layers: 28, num_key_value_heads: 8 },
        type: 'qwen3',
      },
    };
    beforeEach(() => {
      rmSync(join(root, 'config.json'));
      touch('model.onnx');
    });

    it('reads the decoder numbers from genai_config.json in config.json field names', () => {
      touch('genai_config.json', JSON.stringify(genaiConfig));
      expect(readModelDirectory(root, 'fp32').config).toEqual({
        num_hidden_layers: 28,
        num_key_value_heads: 8,
        num_attention_heads: 16,
        hidden_size: 1024,
        head_dim: 128,
        max_position_embeddings: 40960,
        eos_token_id: 151645,
      });
    });

    it('prefers config.json when both are there', () => {
      touch('genai_config.json', JSON.stringify(genaiConfig));
      touch('config.json', JSON.stringify({ num_hidden_layers: 2 }));
      expect(readModelDirectory(root, 'fp32').config).toEqual({ num_hidden_layers: 2 });
    });

    it('rejects a genai_config.json without the decoder numbers, naming the field', () => {
      touch('genai_config.json', JSON.stringify({ model: { decoder: { hidden_size: 16 } } }));
      expect(code(() => readModelDirectory(root, 'fp32'))).toBe(EngineErrorCode.ModelInvalid);
      expect(() => readModelDirectory(root, 'fp32')).toThrow(/model\.decoder\.num_hidden_layers/);
    });

    it('names config.json when neither file is there', () => {
      expect(() => readModelDirectory(root, 'fp32')).toThrow(/config\.json/);
    });
  });

  it.each([
    ['a missing directory', () => readModelDirectory('/nonexistent/model', 'fp32')],
    ['no ONNX file', () => readModelDirectory(root, 'fp32')],
  ])('rejects %s as MODEL_INVALID', (_case, fn) => {
    expect(code(fn)).toBe(EngineErrorCode.ModelInvalid);
  });

  it('names the missing file', () => {
    touch('model.onnx');
    rmSync(join(root, 'tokenizer.json'));
    expect(() => readModelDirectory(root, 'fp32')).toThrow(/tokenizer\.json/);
  });

  it('rejects a corrupt config.json', () => {
    touch('model.onnx');
    touch('config.json', '{not json');
    expect(code(() => readModelDirectory(root, 'fp32'))).toBe(EngineErrorCode.ModelInvalid);
  });
});
