import { ImportGraph, repositoryImports } from '../../test/support/import-graph';

/**
 * The engine's rooms, from the bottom up. A file may import its own room and the rooms listed for it, never
 * one above: the top level less the engine itself is the vocabulary every room speaks (verdicts, errors,
 * options, the observer, the engine's interface, the batch scheduler) and imports no room.
 */
const MAY_IMPORT = {
  contract: [],
  'model-format': ['contract'],
  'answer-format': ['contract'],
  runtime: ['contract', 'model-format'],
  decoding: ['contract', 'model-format', 'answer-format', 'runtime'],
  engine: ['contract', 'model-format', 'answer-format', 'runtime', 'decoding'],
} as const satisfies Record<string, readonly string[]>;
type Room = keyof typeof MAY_IMPORT;

const ENGINE_DIR = 'src/inference/';
const ENTRY = 'src/inference/index.ts';
/** Top-level files that put the rooms together (their specs go with them). */
const ENGINE_FILES = new Set(['index', 'onnx-moderation-engine', 'onnx-moderation-stream']);

function roomOf(file: string): Room {
  const inside = file.slice(ENGINE_DIR.length);
  const slash = inside.indexOf('/');
  if (slash >= 0) {
    const room = inside.slice(0, slash);
    if (!(room in MAY_IMPORT) || room === 'contract' || room === 'engine') throw new Error(`${file} is in no known room`);
    return room as Room;
  }
  return ENGINE_FILES.has(inside.replace(/(\.spec)?\.ts$/, '')) ? 'engine' : 'contract';
}

function layeringViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, imports] of graph) {
    const fromEngine = file.startsWith(ENGINE_DIR);
    for (const target of imports.filter((path) => path.startsWith(ENGINE_DIR))) {
      if (!fromEngine) {
        if (target !== ENTRY) violations.push(`${file} imports ${target}: outside code imports ${ENTRY} only`);
        continue;
      }
      const [from, to] = [roomOf(file), roomOf(target)];
      if (from !== to && !(MAY_IMPORT[from] as readonly Room[]).includes(to)) {
        violations.push(`${file} (${from}) imports ${target} (${to}): ${from} may import ${MAY_IMPORT[from].join(', ') || 'no room'}`);
      }
    }
  }
  return [...violations, ...engineCycles(graph).map((cycle) => `cycle: ${cycle.join(' > ')}`)];
}

/** Each import cycle among the engine's files, found by depth-first search (one report per back edge). */
function engineCycles(graph: ImportGraph): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const onPath = path.indexOf(file);
    if (onPath >= 0) {
      cycles.push([...path.slice(onPath), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const target of graph.get(file) ?? []) if (target.startsWith(ENGINE_DIR)) visit(target);
    path.pop();
    done.add(file);
  };
  for (const file of graph.keys()) if (file.startsWith(ENGINE_DIR)) visit(file);
  return cycles;
}

describe('the inference engine layering', () => {
  it('has no upward import, no cycle, and one door from outside', () => {
    const graph = repositoryImports();
    // The scan really sees the engine and its callers (a broken scan would find nothing to object to).
    expect(graph.get('src/inference/onnx-moderation-engine.ts')).toContain('src/inference/decoding/constrained-decoder.ts');
    expect(graph.get('src/moderation/moderation.service.ts')).toContain(ENTRY);
    expect(layeringViolations(graph)).toEqual([]);
  });

  it('reports an upward import, a cycle and a deep import from outside', () => {
    const graph = new Map([
      ['src/inference/runtime/logits.ts', ['src/inference/decoding/prefill.ts']],
      ['src/inference/decoding/prefill.ts', ['src/inference/decoding/greedy-decoder.ts']],
      ['src/inference/decoding/greedy-decoder.ts', ['src/inference/decoding/prefill.ts']],
      ['src/inference/verdict.ts', ['src/inference/answer-format/verdict-parser.ts']],
      ['bench/x.ts', ['src/inference/runtime/logits.ts', ENTRY]],
    ]);
    expect(layeringViolations(graph)).toEqual([
      'src/inference/runtime/logits.ts (runtime) imports src/inference/decoding/prefill.ts (decoding): runtime may import contract, model-format',
      'src/inference/verdict.ts (contract) imports src/inference/answer-format/verdict-parser.ts (answer-format): contract may import no room',
      'bench/x.ts imports src/inference/runtime/logits.ts: outside code imports src/inference/index.ts only',
      'cycle: src/inference/decoding/prefill.ts > src/inference/decoding/greedy-decoder.ts > src/inference/decoding/prefill.ts',
    ]);
  });
});
