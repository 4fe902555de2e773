import { readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import * as ts from 'typescript';

/** Repository-relative file → the repository files it imports (type-only imports, re-exports and require too). */
export type ImportGraph = ReadonlyMap<string, readonly string[]>;

/** Every file tsconfig.json compiles (src, tools, bench, test) with the repository files it imports, read by the TypeScript compiler. */
export function repositoryImports(): ImportGraph {
  const root = resolve(__dirname, '../..');
  const configPath = join(root, 'tsconfig.json');
  const config = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
  const repoPath = (path: string) => relative(root, path).split(sep).join('/');
  const graph = new Map<string, string[]>();
  for (const file of config.fileNames) {
    const imported = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.flatMap(({ fileName }) => {
      const resolved = ts.resolveModuleName(fileName, file, config.options, ts.sys).resolvedModule;
      return resolved && !resolved.isExternalLibraryImport ? [repoPath(resolved.resolvedFileName)] : [];
    });
    graph.set(repoPath(file), imported);
  }
  return graph;
}
