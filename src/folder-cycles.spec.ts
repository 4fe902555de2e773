import { ImportGraph, repositoryImports } from '../test/support/import-graph';

/**
 * The folders of src/ form no import cycle: each can be read, moved and tested knowing only the folders
 * below it. Files directly in src/ (the ways in: main.ts, app-factory.ts, app.module.ts) count as one folder,
 * `(root)`. Specs are left out: a spec may reach for a helper anywhere.
 */
const SRC = 'src/';
const ROOT = '(root)';

function folderOf(file: string): string {
  const inside = file.slice(SRC.length);
  const slash = inside.indexOf('/');
  return slash < 0 ? ROOT : inside.slice(0, slash);
}

/** Folder → the other folders its (non-spec) files import, with one file import that shows each edge. */
function folderGraph(graph: ImportGraph): Map<string, Map<string, string>> {
  const folders = new Map<string, Map<string, string>>();
  for (const [file, imports] of graph) {
    if (!file.startsWith(SRC) || file.endsWith('.spec.ts')) continue;
    const from = folderOf(file);
    const edges = folders.get(from) ?? new Map<string, string>();
    folders.set(from, edges);
    for (const target of imports) {
      if (!target.startsWith(SRC) || folderOf(target) === from || edges.has(folderOf(target))) continue;
      edges.set(folderOf(target), `${file} imports ${target}`);
    }
  }
  return folders;
}

/** Each folder cycle, found by depth-first search (one report per back edge), with the imports that make it. */
function folderCycles(graph: ImportGraph): string[] {
  const folders = folderGraph(graph);
  const cycles: string[] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (folder: string) => {
    const onPath = path.indexOf(folder);
    if (onPath >= 0) {
      const cycle = [...path.slice(onPath), folder];
      const because = cycle.slice(1).map((to, index) => folders.get(cycle[index])?.get(to));
      cycles.push(`cycle: ${cycle.join(' > ')} (${because.join('; ')})`);
      return;
    }
    if (done.has(folder)) return;
    path.push(folder);
    for (const target of [...(folders.get(folder)?.keys() ?? [])].sort()) visit(target);
    path.pop();
    done.add(folder);
  };
  for (const folder of [...folders.keys()].sort()) visit(folder);
  return cycles;
}

describe('the folders of src/', () => {
  it('import one another without a cycle', () => {
    const graph = repositoryImports();
    // The scan really sees the folders and their imports (a broken scan would find nothing to object to).
    expect([...folderGraph(graph).get('moderation')!.keys()]).toEqual(expect.arrayContaining(['http', 'usage', 'inference']));
    expect(folderCycles(graph)).toEqual([]);
  });

  it('reports a cycle through several folders, and ignores specs and imports within a folder', () => {
    const graph = new Map([
      ['src/usage/usage-meter.ts', ['src/moderation/moderation-outcome.ts', 'src/usage/usage-ledger.ts']],
      ['src/moderation/moderation.service.ts', ['src/http/request-context.ts']],
      ['src/http/request-context.ts', ['src/usage/usage-meter.ts']],
      ['src/tenant/tenant.spec.ts', ['src/http/request-context.ts']],
      ['src/main.ts', ['src/tenant/tenant.ts']],
      ['src/tenant/tenant.ts', ['src/main.ts']],
    ]);
    expect(folderCycles(graph)).toEqual([
      'cycle: (root) > tenant > (root) (src/main.ts imports src/tenant/tenant.ts; src/tenant/tenant.ts imports src/main.ts)',
      'cycle: http > usage > moderation > http (src/http/request-context.ts imports src/usage/usage-meter.ts; ' +
        'src/usage/usage-meter.ts imports src/moderation/moderation-outcome.ts; src/moderation/moderation.service.ts imports src/http/request-context.ts)',
    ]);
  });
});
