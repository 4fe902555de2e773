import { statSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { getModelPreset, MODEL_PRESET_NAMES, ModelPresetName } from '../../synthetic-model/model-presets';
import type { OnnxIoConvention, OnnxWeightDtype } from '../../synthetic-model/qwen3-onnx-graph';
import { countQwen3Parameters } from '../../synthetic-model/qwen3-weight-layout';
import { createProgressBar, megabytes } from '../progress-bar';

interface BuildModelOptions {
  preset: ModelPresetName;
  dtype: OnnxWeightDtype[];
  io: OnnxIoConvention[];
  out: string;
  seed: number;
  externalData: boolean;
  hfCheckpoint: boolean;
}

const DTYPES: readonly OnnxWeightDtype[] = ['fp32', 'fp16'];
const IO_CONVENTIONS: readonly OnnxIoConvention[] = ['optimum', 'genai'];

/** `qwen3guard build-model`: a synthetic Qwen3 model directory (random weights, real architecture and tokenizer). */
export function addBuildModelCommand(program: Command): void {
  program
    .command('build-model')
    .description('build a synthetic Qwen3 model directory (seeded random weights, real shapes and tokenizer) for tests and benchmarks')
    .requiredOption('--out <directory>', 'where to write the model directory')
    .addOption(new Option('--preset <preset>', 'architecture').choices(MODEL_PRESET_NAMES).default('tiny'))
    .addOption(new Option('--dtype <dtype...>', 'weight dtypes; every dtype x io combination is written').choices(DTYPES).default(['fp32']))
    .addOption(new Option('--io <convention...>', 'I/O names: optimum (with position_ids) or genai').choices(IO_CONVENTIONS).default(['optimum']))
    .option('--seed <n>', 'weight seed', parseInteger, 0)
    .option('--external-data', 'always write weights as external data (otherwise only above the 2 GB protobuf limit)', false)
    .option('--hf-checkpoint', 'also write the weights as model.safetensors (float32), the input of tools/gguf/convert_to_gguf.py', false)
    .addHelpText('after', '\nExample: qwen3guard build-model --preset qwen3guard-gen-0.6b --dtype fp32 --dtype fp16 --out models/0.6b-synthetic')
    .action((options: BuildModelOptions) => buildModel(options));
}

function parseInteger(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError('not an integer');
  return Number(value);
}

async function buildModel(options: BuildModelOptions): Promise<void> {
  // Loaded here, not at start-up: the graph builder is large and every other command would pay for it.
  const { writeSyntheticModelDirectory } = await import('../../synthetic-model/model-directory-writer');
  const { createSeededWeights } = await import('../../synthetic-model/seeded-weights');

  const config = getModelPreset(options.preset);
  const variants = options.dtype.flatMap((dtype) => options.io.map((io) => ({ dtype, io })));
  console.log(`preset ${options.preset}: ${countQwen3Parameters(config).toLocaleString('en-US')} parameters, seed ${options.seed}`);
  const started = Date.now();
  const bar = createProgressBar('bytes');
  let current = '';
  const written = await writeSyntheticModelDirectory(
    options.out,
    { config, weights: createSeededWeights({ seed: options.seed }), variants },
    {
      externalData: options.externalData ? true : 'auto',
      huggingFaceCheckpoint: options.hfCheckpoint,
      onProgress: (file, progress) => {
        if (file !== current) {
          if (current !== '') bar.stop();
          current = file;
          bar.start(progress.totalBytes, 0, { label: file });
        }
        bar.update(progress.bytesWritten);
      },
    },
  ).finally(() => bar.stop());
  for (const model of written.modelFiles) {
    const files = [model.file, ...(model.dataFile ? [model.dataFile] : [])];
    const sizes = files.map((file) => `${file} ${megabytes(statSync(join(options.out, file)).size)}`);
    console.log(`${model.variant.dtype}/${model.variant.io}: ${sizes.join(', ')}`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${options.out}`);
}
