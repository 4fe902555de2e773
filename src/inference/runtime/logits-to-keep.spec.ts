import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { writeSyntheticModelDirectory } from '../../synthetic-model/model-directory-writer';
import { getModelPreset } from '../../synthetic-model/model-presets';
import { createSeededWeights } from '../../synthetic-model/seeded-weights';
import { DecoderSession, ForwardStep } from './decoder-session';
import { LOGITS_TO_KEEP, addLogitsToKeep } from './logits-to-keep';
import { REWRITE_FILE_LIMIT_BYTES, readRewritten } from './model-rewrites';
import { positionLogits, vocabularySize } from './logits';
import { readModelDirectory } from '../model-format/model-directory';

jest.setTimeout(120_000);

const ONLY_LOGITS_TO_KEEP = { logitsToKeep: true, perTokenInt8: false };

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** Two rows of four tokens, the first left-padded by one. */
const STEP: ForwardStep = {
  batch: 2,
  sequenceLength: 4,
  inputIds: BigInt64Array.from([0n, 11n, 12n, 13n, 21n, 22n, 23n, 24n]),
  attentionMask: BigInt64Array.from([0n, 1n, 1n, 1n, 1n, 1n, 1n, 1n]),
  positionIds: BigInt64Array.from([0n, 0n, 1n, 2n, 0n, 1n, 2n, 3n]),
};

function int64Input(name: string): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.INT64 } } };
}

function modelOf(graph: onnx.IGraphProto): onnx.IModelProto {
  return { irVersion: 8, opsetImport: [{ version: 17 }], graph };
}

describe('addLogitsToKeep', () => {
  let workDir: string;
  let modelDir: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'logits-to-keep-spec-'));
    modelDir = join(workDir, 'tiny');
    await writeSyntheticModelDirectory(modelDir, {
      config: getModelPreset('tiny'),
      weights: createSeededWeights({ seed: 5 }),
      variants: [
        { dtype: 'fp32', io: 'optimum' },
        { dtype: 'fp16', io: 'optimum' },
      ],
    });
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('declares the input and a logits output whose positions are the kept ones', () => {
    const { rewritten, skipped } = readRewritten(readModelDirectory(modelDir, 'fp32').onnxPath, ONLY_LOGITS_TO_KEEP);
    if (!rewritten) throw new Error(skipped.logitsToKeep);
    const graph = onnx.ModelProto.decode(rewritten.model).graph!;
    const input = graph.input!.find((entry) => entry.name === LOGITS_TO_KEEP)!;
    expect(input.type!.tensorType!.elemType).toBe(onnx.TensorProto.DataType.INT64);
    expect(input.type!.tensorType!.shape!.dim!.map((dim) => Number(dim.dimValue))).toEqual([1]);
    expect(graph.output!.find((output) => output.name === 'logits')!.type!.tensorType!.shape!.dim![1].dimParam).toBe('kept_positions');
    expect(graph.node!.filter((node) => node.input!.includes(`${LOGITS_TO_KEEP}/hidden`))).toHaveLength(1);
  });

  describe.each(['fp32', 'fp16'] as const)('a session opened with it, %s', (dtype) => {
    let trimmed: DecoderSession;
    let asExported: DecoderSession;

    beforeAll(async () => {
      const directory = readModelDirectory(modelDir, dtype);
      trimmed = await DecoderSession.open({
        onnxPath: directory.onnxPath,
        config: directory.config,
        provider: 'cpu',
        intraOpThreads: 1,
        logger: silent,
        logitsToKeep: true,
      });
      asExported = await DecoderSession.open({
        onnxPath: directory.onnxPath,
        config: directory.config,
        provider: 'cpu',
        intraOpThreads: 1,
        logger: silent,
        logitsToKeep: false,
      });
    });
    afterAll(async () => {
      await trimmed.close();
      await asExported.close();
    });

    it('takes logits_to_keep only when asked', () => {
      expect(trimmed.io.logitsToKeep).toBe(true);
      expect(asExported.io.logitsToKeep).toBe(false);
    });

    it.each([1, 2, 4])('computes logits for the last %i positions only, with the values of the whole graph', async (positions) => {
      const kept = (await trimmed.forward(STEP, trimmed.emptyCache(2), { positions })).logits;
      const whole = (await asExported.forward(STEP, asExported.emptyCache(2))).logits;
      const vocab = vocabularySize(whole);
      expect(kept.dims).toEqual([2, positions, vocab]);
      for (let row = 0; row < 2; row++) {
        for (let position = 0; position < positions; position++) {
          const [actual, expected] = [positionLogits(kept, row, position), positionLogits(whole, row, 4 - positions + position)];
          for (let id = 0; id < vocab; id += 97) expect(Math.abs(actual(id) - expected(id))).toBeLessThan(1e-4);
          expect(actual.argmax()).toBe(expected.argmax());
        }
      }
    });

    it('gives every position when nothing is read', async () => {
      expect((await trimmed.forward(STEP, trimmed.emptyCache(2))).logits.dims).toEqual([2, 4, expect.any(Number)]);
    });
  });

  it('finds external weights a Hugging Face snapshot links from its blobs folder', async () => {
    const written = join(workDir, 'external');
    await writeSyntheticModelDirectory(
      written,
      { config: getModelPreset('tiny'), weights: createSeededWeights({ seed: 5 }), variants: [{ dtype: 'fp32', io: 'optimum' }] },
      { externalData: true },
    );
    const [blobs, snapshot] = [join(workDir, 'hub/blobs'), join(workDir, 'hub/snapshots/0123abc/onnx')];
    mkdirSync(blobs, { recursive: true });
    mkdirSync(snapshot, { recursive: true });
    for (const [file, blob] of [
      ['model.onnx', 'f00d'],
      ['model.onnx_data', 'beef'],
    ]) {
      renameSync(join(written, 'onnx', file), join(blobs, blob));
      symlinkSync(join('../../../blobs', blob), join(snapshot, file));
    }
    const rewrite = readRewritten(join(snapshot, 'model.onnx'), ONLY_LOGITS_TO_KEEP);
    expect(rewrite).toMatchObject({ rewritten: { externalDataFolder: realpathSync(blobs) } });

    const config = readModelDirectory(modelDir, 'fp32').config;
    const session = await DecoderSession.open({
      onnxPath: join(snapshot, 'model.onnx'),
      config,
      provider: 'cpu',
      intraOpThreads: 1,
      logger: silent,
      logitsToKeep: true,
    });
    try {
      expect(session.io.logitsToKeep).toBe(true);
      expect((await session.forward(STEP, session.emptyCache(2), { positions: 1 })).logits.dims).toEqual([2, 1, getModelPreset('tiny').vocab_size]);
    } finally {
      await session.close();
    }
  });

  it('falls back to the model as exported when the rewritten graph fails its check, and says so', async () => {
    // An LM head whose output shape follows input_ids' length: slicing its input leaves too few values.
    const directory = readModelDirectory(modelDir, 'fp32');
    const model = onnx.ModelProto.decode(readFileSync(directory.onnxPath));
    const reshape = model.graph!.node!.find((node) => node.output!.includes('logits'))!;
    model.graph!.node!.push(
      { opType: 'Shape', input: ['input_ids'], output: ['old/shape'] },
      {
        opType: 'Concat',
        input: ['old/shape', 'old/vocab'],
        output: ['old/logits_shape'],
        attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 0 }],
      },
    );
    const vocab = getModelPreset('tiny').vocab_size;
    model.graph!.initializer!.push({
      name: 'old/vocab',
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [1],
      rawData: new Uint8Array(BigInt64Array.of(BigInt(vocab)).buffer),
    });
    reshape.input![1] = 'old/logits_shape';
    // Nodes must stay in topological order: the reshape goes last.
    model.graph!.node = [...model.graph!.node!.filter((node) => node !== reshape), reshape];
    const onnxPath = join(workDir, 'old-head.onnx');
    writeFileSync(onnxPath, onnx.ModelProto.encode(model).finish());

    const warnings: string[] = [];
    const session = await DecoderSession.open({
      onnxPath,
      config: directory.config,
      provider: 'cpu',
      intraOpThreads: 1,
      logger: { ...silent, warn: (line) => warnings.push(line) },
      logitsToKeep: true,
    });
    try {
      expect(session.io.logitsToKeep).toBe(false);
      expect(warnings).toEqual([expect.stringContaining('failed its check')]);
      expect((await session.forward(STEP, session.emptyCache(2), { positions: 1 })).logits.dims).toEqual([2, 1, vocab]);
    } finally {
      await session.close();
    }
  });

  it('leaves a file whose inline weights are over the limit alone, unread', () => {
    const onnxPath = join(workDir, 'large.onnx');
    const fd = openSync(onnxPath, 'w');
    ftruncateSync(fd, REWRITE_FILE_LIMIT_BYTES + 1); // sparse: nothing is written
    closeSync(fd);
    expect(readRewritten(onnxPath, ONLY_LOGITS_TO_KEEP).skipped).toEqual({ logitsToKeep: expect.stringContaining('external data') });
  });

  it('leaves a file it cannot read as a model for onnxruntime to refuse', () => {
    const onnxPath = join(workDir, 'not-a-model.onnx');
    writeFileSync(onnxPath, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(readRewritten(onnxPath, ONLY_LOGITS_TO_KEEP).skipped).toEqual({ logitsToKeep: expect.stringContaining('could not be read as a model') });
  });

  it.each<[string, onnx.IGraphProto, string]>([
    [
      'no matrix product before the logits',
      { node: [{ opType: 'Relu', input: ['x'], output: ['logits'] }], input: [int64Input('x')], output: [{ name: 'logits' }] },
      'no MatMul or Gemm',
    ],
    [
      'a matrix product that is not the last step before the logits',
      {
        node: [
          { opType: 'Relu', input: ['x'], output: ['hidden'] },
          { opType: 'MatMul', input: ['hidden', 'w'], output: ['scores'] },
          { opType: 'Softmax', input: ['scores'], output: ['logits'] },
        ],
        input: [int64Input('x')],
        output: [{ name: 'logits' }],
      },
      'no MatMul or Gemm',
    ],
    [
      'a head reading a graph input',
      { node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['logits'] }], input: [int64Input('x')], output: [{ name: 'logits' }] },
      'reads a graph input',
    ],
    [
      'a hidden state another output also reads',
      {
        node: [
          { opType: 'Relu', input: ['x'], output: ['hidden'] },
          { opType: 'MatMul', input: ['hidden', 'w'], output: ['logits'] },
          { opType: 'Identity', input: ['hidden'], output: ['present.0.key'] },
        ],
        input: [int64Input('x')],
        output: [{ name: 'logits' }, { name: 'present.0.key' }],
      },
      'also feeds present.0.key',
    ],
    [
      'an input of that name already',
      {
        node: [{ opType: 'MatMul', input: ['x', 'w'], output: ['logits'] }],
        input: [int64Input('x'), int64Input(LOGITS_TO_KEEP)],
        output: [{ name: 'logits' }],
      },
      'already has',
    ],
  ])('leaves a graph with %s as it is', (_case, graph, reason) => {
    expect(addLogitsToKeep(modelOf(graph))).toEqual(expect.stringContaining(reason));
  });
});
