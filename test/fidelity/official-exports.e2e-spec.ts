/**
 * The engine on ONNX models made by the official exporters (optimum's text-generation-with-past, the
 * onnxruntime-genai model builder), held to transformers' own Qwen3 outputs on the same checkpoint:
 * logits at the last prompt position, every greedy step's top logits, and the greedy continuation token
 * for token. Fixtures: tools/reference-models/make_reference.py (committed; no Python here).
 * QWEN3GUARD_REFERENCE_DIR=<folder the script wrote for a real checkpoint> adds that set.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { lastPositionLogits } from '../../src/inference';
import {
  compareLogits,
  decisiveSteps,
  ExportEntry,
  greedyContinuation,
  linkExport,
  listFiles,
  loadReferenceSet,
  OpenedModel,
  openModel,
  promptLogits,
  ReferenceSet,
  referenceRoots,
  report,
  sha256File,
  stepLogitsMaxDiff,
} from './support/reference-set';

jest.setTimeout(300_000);

const sets = referenceRoots().map(loadReferenceSet);

describe.each(sets.map((set) => [set.manifest.model, set] as const))('reference set %s', (_model, set: ReferenceSet) => {
  const measured: Array<Record<string, string | number>> = [];
  afterAll(() => report(`fidelity vs transformers (${set.manifest.model}), max abs logit diff`, measured));

  it('holds every file the manifest lists, unchanged since the exporters wrote them', () => {
    for (const [file, { sha256 }] of Object.entries(set.manifest.files)) {
      expect([file, sha256File(join(set.root, file))]).toEqual([file, sha256]);
    }
    expect(set.manifest.failures).toEqual([]);
    expect(set.manifest.exports.map((entry) => entry.exporter).sort()).toEqual(expect.arrayContaining(['onnxruntime-genai', 'optimum']));
  });

  describe.each(set.manifest.exports.map((entry) => [entry.name, entry] as const))('%s', (_name, entry: ExportEntry) => {
    let dir: string;
    let model: OpenedModel;
    const row: Record<string, string | number> = { export: entry.name, dtype: entry.dtype, tolerance: entry.tolerance };

    beforeAll(async () => {
      dir = linkExport(set, entry);
      model = await openModel(dir, entry.dtype);
      measured.push(row);
    });
    afterAll(async () => {
      await model?.session.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('loads the export as written, with the I/O the exporter declared', () => {
      expect(model.directory.onnxPath).toBe(join(dir, entry.onnx));
      const declared = new Set(entry.inputs.map((input) => input.name));
      expect(model.session.io.hasPositionIds).toBe(declared.has('position_ids'));
      expect(model.session.io.layers).toHaveLength(entry.inputs.filter((input) => input.name.endsWith('.key')).length);
      const kvType = entry.inputs.find((input) => input.name === 'past_key_values.0.key')!.type;
      expect(model.session.io.kvDtype).toBe(kvType === 'float16' ? 'float16' : 'float32');
      expect(model.session.io.headDim).toBe(set.manifest.config.head_dim);
      expect(model.session.io.kvHeads).toBe(set.manifest.config.num_key_value_heads);
    });

    it('takes the logits_to_keep input the engine adds at load, so the LM head runs on the positions read', () => {
      expect(model.session.io.logitsToKeep).toBe(true);
    });

    if (entry.exporter === 'onnxruntime-genai') {
      it("runs the builder's com.microsoft contrib ops on onnxruntime-node's CPU provider", () => {
        const graph = onnx.ModelProto.decode(readFileSync(join(dir, entry.onnx))).graph!;
        const contribOps = new Set(graph.node!.filter((node) => node.domain === 'com.microsoft').map((node) => node.opType));
        expect([...contribOps].sort()).toEqual(
          Object.keys(entry.operators)
            .filter((op) => op.startsWith('com.microsoft:'))
            .map((op) => op.slice('com.microsoft:'.length))
            .sort(),
        );
        expect(contribOps.has('GroupQueryAttention')).toBe(true);
        // Weight-only int4/int8: quantized MatMuls, and the embedding read from the quantized LM head.
        if (entry.precision === 'int4' || entry.precision === 'int8') expect(contribOps).toContain('MatMulNBits');
        expect(graph.input!.map((input) => input.name)).not.toContain('position_ids');
        // The session opened on the CPU provider; the tests below run every one of these ops through it.
        expect(model.session.provider).toBe('cpu');
      });
    }

    it("renders each conversation with the model's template and tokenizes it exactly as transformers does", () => {
      for (const conversation of set.references.conversations) {
        expect([conversation.id, model.encoder.render(conversation.messages)]).toEqual([conversation.id, conversation.text]);
        expect([conversation.id, model.encoder.encode(conversation.messages)]).toEqual([conversation.id, conversation.input_ids]);
      }
    });

    it("matches transformers' logits at the last prompt position (chunked prefill)", async () => {
      let worst = 0;
      for (const conversation of set.references.conversations) {
        // The engine's chunk size, and for GroupQueryAttention also chunks of 64 (every prompt here crosses
        // chunk borders, so later chunks run with a past): prompt-with-past is its own kernel path.
        for (const chunk of entry.exporter === 'onnxruntime-genai' ? [undefined, 64] : [undefined]) {
          const { row: logits, vocab } = await promptLogits(model, conversation.input_ids, chunk);
          expect(vocab).toBe(set.references.vocab_size);
          const comparison = compareLogits(logits, vocab, conversation.prompt_logits);
          worst = Math.max(worst, comparison.maxAbsDiff);
          expect([conversation.id, comparison.maxAbsDiff]).toEqual([conversation.id, expect.any(Number)]);
          expect(comparison.maxAbsDiff).toBeLessThan(entry.tolerance);
          expect(comparison.sumDiff).toBeLessThan(entry.tolerance * vocab);
          expect(comparison.l2Diff).toBeLessThan(entry.tolerance * Math.sqrt(vocab));
          const decisive = conversation.prompt_logits.top_values.findIndex((value, i, all) => i > 0 && all[i - 1] - value <= 2 * entry.tolerance);
          const ordered = decisive === -1 ? conversation.prompt_logits.top_ids.length : decisive - 1;
          expect(comparison.topIds.slice(0, ordered)).toEqual(conversation.prompt_logits.top_ids.slice(0, ordered));
        }
      }
      row.prompt_logits = worst;
    });

    it("matches transformers' top logits at every greedy step (KV-cache decoding, reference tokens fed back)", async () => {
      let worst = 0;
      for (const conversation of set.references.conversations) {
        const diff = await stepLogitsMaxDiff(model, conversation);
        worst = Math.max(worst, diff);
        expect([conversation.id, diff < entry.tolerance]).toEqual([conversation.id, true]);
      }
      row.step_logits = worst;
    });

    it('gives a left-padded batch row its single-run logits (optimum) or, for GroupQueryAttention, not (genai: one sequence at a time)', async () => {
      const [first, second] = set.references.conversations.map((conversation) => conversation.input_ids);
      const long = first.slice(0, 40);
      const short = second.slice(0, 30);
      const pad = long.length - short.length;
      const run = async (rows: number[][], masks: bigint[][], positions: bigint[][]) =>
        model.session.forward(
          {
            batch: rows.length,
            sequenceLength: rows[0].length,
            inputIds: BigInt64Array.from(rows.flat(), BigInt),
            attentionMask: BigInt64Array.from(masks.flat()),
            positionIds: BigInt64Array.from(positions.flat()),
          },
          model.session.emptyCache(rows.length),
        );
      const single = lastPositionLogits((await run([short], [short.map(() => 1n)], [short.map((_, i) => BigInt(i))])).logits);
      const batched = await run(
        [long, [...new Array<number>(pad).fill(151643), ...short]],
        [long.map(() => 1n), [...new Array<bigint>(pad).fill(0n), ...short.map(() => 1n)]],
        [long.map((_, i) => BigInt(i)), [...new Array<bigint>(pad).fill(0n), ...short.map((_, i) => BigInt(i))]],
      );
      const padded = lastPositionLogits(batched.logits, 1);
      let diff = 0;
      for (let id = 0; id < set.references.vocab_size; id += 7) diff = Math.max(diff, Math.abs(padded(id) - single(id)));
      row.padded_batch_row = diff;
      // GroupQueryAttention takes each row's length from the count of ones in the mask and its positions
      // from 0: padding before a row's tokens is not masked out. Batching must not pad genai exports.
      if (entry.exporter === 'onnxruntime-genai') expect(diff).toBeGreaterThan(0.1);
      else expect(diff).toBeLessThan(entry.tolerance);
    });

    it("decodes greedily to transformers' continuation, token for token", async () => {
      let compared = 0;
      let exact = 0;
      for (const conversation of set.references.conversations) {
        const tokens = await greedyContinuation(model, conversation.input_ids, conversation.continuation.length);
        // Every step must agree where the reference's choice is decisive at this export's tolerance; in
        // float32 that is every step of every conversation (asserted), so the continuation matches exactly.
        const decisive = decisiveSteps(conversation, entry.tolerance);
        if (entry.dtype === 'fp32') expect([conversation.id, decisive]).toEqual([conversation.id, conversation.continuation.length]);
        expect([conversation.id, tokens.slice(0, decisive)]).toEqual([conversation.id, conversation.continuation.slice(0, decisive)]);
        if (decisive === conversation.continuation.length) expect(tokens).toEqual(conversation.continuation);
        compared += decisive;
        if (tokens.join() === conversation.continuation.join()) exact++;
      }
      row.greedy_tokens_checked = compared;
      row.greedy_exact = `${exact}/${set.references.conversations.length}`;
    });
  });
});

describe('the committed reference fixtures', () => {
  const set = sets[0];

  it('stay small: every file together well under 40 MB, the large tokenizer files left out', () => {
    const files = listFiles(set.root);
    expect(files.sort()).toEqual([...Object.keys(set.manifest.files), 'manifest.json'].sort());
    expect(set.manifest.total_bytes).toBeLessThan(36_000_000);
    for (const entry of set.manifest.exports) {
      expect(Object.keys(entry.dropped_tokenizer_files).sort()).toEqual(['merges.txt', 'tokenizer.json', 'vocab.json']);
      expect(entry.dropped_tokenizer_files['tokenizer.json']).toBe(set.manifest.tokenizer!.sha256);
    }
  });
});
