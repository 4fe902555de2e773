import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SYNTHETIC_CHAT_TEMPLATE } from './chat-template';
import { QWEN3_BOS_TOKEN_ID, QWEN3_EOS_TOKEN_ID } from './model-presets';
import { TensorWriteProgress, writeOnnxModel } from './onnx-model-file';
import { Qwen3Config, Qwen3WeightSource } from './qwen3-config';
import { OnnxIoConvention, OnnxWeightDtype, buildQwen3OnnxModel } from './qwen3-onnx-graph';
import { qwen3TokenizerFile } from './qwen3-tokenizer-files';
import { qwen3TensorSpecs } from './qwen3-weight-layout';
import { writeSafetensorsCheckpoint } from './safetensors-writer';

export interface SyntheticModelVariant {
  dtype: OnnxWeightDtype;
  io: OnnxIoConvention;
}

export interface SyntheticModelSpec {
  config: Qwen3Config;
  weights: Qwen3WeightSource;
  variants: SyntheticModelVariant[];
  /** Jinja chat template for tokenizer_config.json; defaults to SYNTHETIC_CHAT_TEMPLATE. */
  chatTemplate?: string;
}

export interface SyntheticModelWriteOptions {
  /** Passed to writeOnnxModel: 'auto' (default) uses external data only above the 2 GB protobuf limit. */
  externalData?: boolean | 'auto';
  onProgress?: (file: string, progress: TensorWriteProgress) => void;
  /**
   * Also writes the weights as a Hugging Face checkpoint (`model.safetensors`, float32), so tools that start
   * from one (llama.cpp's GGUF converter: tools/gguf/) read the very weights the ONNX files hold.
   */
  huggingFaceCheckpoint?: boolean;
}

export interface WrittenModelFile {
  variant: SyntheticModelVariant;
  /** Relative to the directory, e.g. `onnx/model_fp16.onnx`. */
  file: string;
  /** Relative path of the external-data file, or null when the weights are inline. */
  dataFile: string | null;
}

export interface WrittenModelDirectory {
  dir: string;
  modelFiles: WrittenModelFile[];
}

/**
 * Writes a Hugging Face style model directory that the engine (and transformers.js) can load: config,
 * generation config, the real Qwen3 tokenizer with the given chat template, and one ONNX file per
 * variant. Optimum variants go to `onnx/model.onnx` / `onnx/model_fp16.onnx` / `onnx/model_quantized.onnx`; a genai variant to the
 * top-level `model.onnx`, where onnxruntime-genai keeps its model whatever the precision.
 *
 * Synchronous work behind a Promise: callers await it, and the files are complete when it resolves.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- synchronous work behind a Promise (see above)
export async function writeSyntheticModelDirectory(
  dir: string,
  spec: SyntheticModelSpec,
  options: SyntheticModelWriteOptions = {},
): Promise<WrittenModelDirectory> {
  const files = spec.variants.map((variant) => ({ variant, file: modelFileFor(variant) }));
  assertDistinctFiles(files);
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, 'config.json'), spec.config);
  writeJson(join(dir, 'generation_config.json'), generationConfig(spec.config));
  copyFileSync(qwen3TokenizerFile('tokenizer.json'), join(dir, 'tokenizer.json'));
  writeJson(join(dir, 'tokenizer_config.json'), tokenizerConfig(spec.chatTemplate ?? SYNTHETIC_CHAT_TEMPLATE));
  if (options.huggingFaceCheckpoint) writeSafetensorsCheckpoint(join(dir, 'model.safetensors'), qwen3TensorSpecs(spec.config), spec.weights);

  const modelFiles = files.map(({ variant, file }) => {
    const built = buildQwen3OnnxModel(spec.config, spec.weights, variant);
    const written = writeOnnxModel(join(dir, file), built, {
      externalData: options.externalData,
      onTensor: (progress) => options.onProgress?.(file, progress),
    });
    return { variant, file, dataFile: written.dataPath ? `${file}_data` : null };
  });
  return { dir, modelFiles };
}

/** Where loaders look for each variant (see src/inference/model-format/model-directory.ts). */
export function modelFileFor(variant: SyntheticModelVariant): string {
  if (variant.io === 'genai') return 'model.onnx';
  return { fp32: 'onnx/model.onnx', fp16: 'onnx/model_fp16.onnx', int8: 'onnx/model_quantized.onnx' }[variant.dtype];
}

function assertDistinctFiles(files: Array<{ variant: SyntheticModelVariant; file: string }>): void {
  const seen = new Set<string>();
  for (const { variant, file } of files) {
    if (seen.has(file)) {
      const which = `${variant.dtype}/${variant.io}`;
      throw new Error(`two variants would both be written to ${file} (${which}); a directory holds one genai model`);
    }
    seen.add(file);
  }
}

/** Greedy decoding, stopping at <|im_end|> or <|endoftext|>, as Qwen3Guard's evaluation decodes. */
function generationConfig(config: Qwen3Config): Record<string, unknown> {
  return {
    bos_token_id: config.bos_token_id ?? QWEN3_BOS_TOKEN_ID,
    eos_token_id: [QWEN3_EOS_TOKEN_ID, QWEN3_BOS_TOKEN_ID],
    pad_token_id: QWEN3_BOS_TOKEN_ID,
    do_sample: false,
  };
}

/** The real Qwen3 tokenizer settings, with the synthetic model's own chat template. */
function tokenizerConfig(chatTemplate: string): Record<string, unknown> {
  const tokenizer = JSON.parse(readFileSync(qwen3TokenizerFile('tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  return { ...tokenizer, chat_template: chatTemplate };
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}
