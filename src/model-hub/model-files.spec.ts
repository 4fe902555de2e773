import { RepoFile, selectModelFiles } from './model-files';

function files(...paths: string[]): RepoFile[] {
  return paths.map((path) => ({ path, size: 1, oid: 'x' }));
}

function selected(repo: RepoFile[], ...dtypes: Parameters<typeof selectModelFiles>[1]): string[] {
  return selectModelFiles(repo, dtypes).map((file) => file.path);
}

describe('selectModelFiles', () => {
  const metadata = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'merges.txt'];

  // An optimum / transformers.js export, as onnx-community publishes them.
  const optimum = files(
    ...metadata,
    'README.md',
    '.gitattributes',
    'onnx/model.onnx',
    'onnx/model.onnx_data',
    'onnx/model_fp16.onnx',
    'onnx/model_fp16.onnx_data',
    'onnx/model_fp16.onnx_data_1',
    'onnx/model_q4f16.onnx',
    'onnx/model_quantized.onnx',
    'model.safetensors',
  );

  it("takes the metadata and only the asked dtype's weights with their external data", () => {
    expect(selected(optimum, 'fp16')).toEqual([...metadata, 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data', 'onnx/model_fp16.onnx_data_1']);
    expect(selected(optimum, 'fp32')).toEqual([...metadata, 'onnx/model.onnx', 'onnx/model.onnx_data']);
  });

  it('takes several dtypes at once', () => {
    expect(selected(optimum, 'q4f16', 'quantized')).toEqual([...metadata, 'onnx/model_q4f16.onnx', 'onnx/model_quantized.onnx']);
  });

  it("falls back to onnxruntime-genai's top-level model.onnx, as the engine does", () => {
    const genai = files('genai_config.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.onnx', 'model.onnx.data');
    expect(selected(genai, 'int8')).toEqual(['genai_config.json', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.onnx', 'model.onnx.data']);
  });

  it('says which ONNX files exist when the dtype has none', () => {
    expect(() => selectModelFiles(files('config.json', 'onnx/model_fp16.onnx'), ['int8'])).toThrow(
      'no ONNX file for dtype int8 (looked for onnx/model_int8.onnx, model_int8.onnx, model.onnx); the repository has onnx/model_fp16.onnx',
    );
  });

  it('says when a repository is not an ONNX export at all', () => {
    expect(() => selectModelFiles(files('config.json', 'model.safetensors'), ['fp32'])).toThrow(/has no ONNX file: is it an ONNX export\?/);
  });
});
