/**
 * Builds a synthetic Qwen3 model directory (random weights, real architecture and tokenizer).
 *
 *   npx tsx tools/build-model.ts --preset qwen3guard-gen-0.6b --dtype fp32 --io optimum \
 *     --out models/qwen3guard-gen-0.6b-synthetic [--seed N] [--external-data]
 *
 * --dtype and --io may be repeated; every combination is written.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MODEL_PRESET_NAMES, getModelPreset, isModelPresetName } from '../src/synthetic-model/model-presets';
import { writeSyntheticModelDirectory } from '../src/synthetic-model/model-directory-writer';
import { countQwen3Parameters } from '../src/synthetic-model/qwen3-weight-layout';
import { OnnxIoConvention, OnnxWeightDtype } from '../src/synthetic-model/qwen3-onnx-graph';
import { createSeededWeights } from '../src/synthetic-model/seeded-weights';

const DTYPES: readonly OnnxWeightDtype[] = ['fp32', 'fp16'];
const IO_CONVENTIONS: readonly OnnxIoConvention[] = ['optimum', 'genai'];

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      preset: { type: 'string', default: 'tiny' },
      dtype: { type: 'string', multiple: true, default: ['fp32'] },
      io: { type: 'string', multiple: true, default: ['optimum'] },
      out: { type: 'string' },
      seed: { type: 'string', default: '0' },
      'external-data': { type: 'boolean', default: false },
    },
  });
  const preset = values.preset!;
  if (!isModelPresetName(preset)) fail(`--preset must be one of ${MODEL_PRESET_NAMES.join(', ')}`);
  const dtypes = values.dtype!.map((dtype) => oneOf(DTYPES, dtype, '--dtype'));
  const ios = values.io!.map((io) => oneOf(IO_CONVENTIONS, io, '--io'));
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  if (!values.out) fail('--out <directory> is required');
  return { preset, dtypes, ios, seed, out: values.out, externalData: values['external-data'] ? true : ('auto' as const) };
}

function oneOf<T extends string>(allowed: readonly T[], value: string, flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) fail(`${flag} ${value}: use one of ${allowed.join(', ')}`);
  return value as T;
}

function fail(message: string): never {
  console.error(`build-model: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const args = parseCommandLine();
  const config = getModelPreset(args.preset);
  const variants = args.dtypes.flatMap((dtype) => args.ios.map((io) => ({ dtype, io })));
  const parameters = countQwen3Parameters(config).toLocaleString('en-US');
  console.log(`preset ${args.preset}: ${parameters} parameters, seed ${args.seed}`);
  const started = Date.now();
  let lastReported = -1;
  const written = await writeSyntheticModelDirectory(
    args.out,
    { config, weights: createSeededWeights({ seed: args.seed }), variants },
    {
      externalData: args.externalData,
      onProgress: (file, progress) => {
        const percent = Math.floor((100 * progress.bytesWritten) / progress.totalBytes);
        if (percent >= lastReported + 10 || progress.index === progress.count) {
          lastReported = progress.index === progress.count ? -1 : percent;
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          console.log(`  ${file}: ${progress.index}/${progress.count} tensors, ${percent}% of ${gigabytes(progress.totalBytes)} (${seconds} s)`);
        }
      },
    },
  );
  for (const model of written.modelFiles) {
    const files = [model.file, ...(model.dataFile ? [model.dataFile] : [])];
    const sizes = files.map((file) => `${file} ${gigabytes(statSync(join(args.out, file)).size)}`);
    console.log(`${model.variant.dtype}/${model.variant.io}: ${sizes.join(', ')}`);
  }
  console.log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${args.out}`);
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(3)} GB`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
