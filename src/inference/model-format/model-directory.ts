import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { EngineError, EngineErrorCode } from '../engine-error';
import { DecoderConfig } from './decoder-config';
import { GENAI_CONFIG_FILE, decoderConfigFromGenai } from './genai-config';
import { ModelDtype } from '../onnx-engine-options';

export interface ModelDirectory {
  root: string;
  name: string;
  onnxPath: string;
  /** True when the file was found under the dtype's own name; false for a top-level `model.onnx`. */
  dtypeFromFileName: boolean;
  config: DecoderConfig;
  /** `generation_config.json`, when present: its eos ids add to the stop tokens. */
  generationConfig: { eos_token_id?: number | number[] } | null;
  tokenizerJson: object;
  tokenizerConfig: Record<string, unknown>;
  chatTemplate: string;
}

/** File-name suffixes of optimum / transformers.js exports (`onnx/model_fp16.onnx` ...). */
const DTYPE_SUFFIX: Record<ModelDtype, string> = {
  fp32: '',
  fp16: '_fp16',
  q4f16: '_q4f16',
  quantized: '_quantized',
  int8: '_int8',
};

export function readModelDirectory(directory: string, dtype: ModelDtype): ModelDirectory {
  const root = resolve(directory);
  if (!existsSync(root)) {
    throw invalid(`model directory ${root} does not exist`);
  }
  const tokenizerConfig = readJson(root, 'tokenizer_config.json') as Record<string, unknown>;
  const { path: onnxPath, dtypeFromFileName } = findOnnxFile(root, dtype);
  return {
    root,
    name: basename(root),
    onnxPath,
    dtypeFromFileName,
    config: readDecoderConfig(root),
    generationConfig: existsSync(join(root, 'generation_config.json')) ? readJson(root, 'generation_config.json') : null,
    tokenizerJson: readJson(root, 'tokenizer.json'),
    tokenizerConfig,
    chatTemplate: findChatTemplate(root, tokenizerConfig),
  };
}

/** Where onnxruntime-genai writes its model, whatever its precision. */
export const GENAI_ONNX_FILE = 'model.onnx';

/** The dtype's own file, relative to the model directory: `onnx/model_fp16.onnx`, also accepted at the top level. */
export function dtypeOnnxFiles(dtype: ModelDtype): [string, string] {
  const fileName = `model${DTYPE_SUFFIX[dtype]}.onnx`;
  return [`onnx/${fileName}`, fileName];
}

/** The dtype's own file first, then a top-level GENAI_ONNX_FILE. */
function findOnnxFile(root: string, dtype: ModelDtype): { path: string; dtypeFromFileName: boolean } {
  const named = dtypeOnnxFiles(dtype);
  for (const candidate of named.map((file) => join(root, file))) {
    if (existsSync(candidate)) return { path: candidate, dtypeFromFileName: true };
  }
  const genaiFile = join(root, GENAI_ONNX_FILE);
  if (existsSync(genaiFile)) return { path: genaiFile, dtypeFromFileName: false };
  throw invalid(`no ONNX file for dtype ${dtype} in ${root} (looked for ${named.join(' and ')})`);
}

/** `chat_template.jinja` wins over `tokenizer_config.json`, as in transformers. */
function findChatTemplate(root: string, tokenizerConfig: Record<string, unknown>): string {
  const jinjaFile = join(root, 'chat_template.jinja');
  if (existsSync(jinjaFile)) return readFileSync(jinjaFile, 'utf8');
  const template = tokenizerConfig.chat_template;
  if (typeof template === 'string') return template;
  if (Array.isArray(template)) {
    const entries = template as ({ name?: unknown; template?: unknown } | null)[];
    const named = entries.find((entry) => entry?.name === 'default') ?? entries[0];
    if (typeof named?.template === 'string') return named.template;
  }
  throw invalid(`${root} has no chat template (chat_template.jinja or tokenizer_config.json's chat_template)`);
}

/**
 * config.json, as Hugging Face and optimum folders have it; else onnxruntime-genai's genai_config.json, the
 * only configuration its model builder writes.
 */
function readDecoderConfig(root: string): DecoderConfig {
  if (existsSync(join(root, 'config.json')) || !existsSync(join(root, GENAI_CONFIG_FILE))) {
    return readJson(root, 'config.json') as DecoderConfig;
  }
  return decoderConfigFromGenai(readJson(root, GENAI_CONFIG_FILE), join(root, GENAI_CONFIG_FILE));
}

function readJson(root: string, file: string): object {
  const path = join(root, file);
  if (!existsSync(path)) throw invalid(`model directory ${root} has no ${file}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as object;
  } catch (error) {
    throw invalid(`${path} is not valid JSON`, error);
  }
}

function invalid(message: string, cause?: unknown): EngineError {
  return new EngineError(EngineErrorCode.ModelInvalid, message, { cause });
}
