#!/usr/bin/env node
'use strict';
// The `qwen3guard` command (package.json "bin"). It runs the compiled CLI when `npm run build` has made one,
// and otherwise the TypeScript sources through tsx (a development dependency), so that `npx qwen3guard` works
// in a fresh clone before any build. In-process: arguments, stdin/stdout, signals and the exit code are the
// CLI's own.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');

if (existsSync(compiled)) {
  require(compiled);
} else {
  let tsx;
  try {
    // Both loaders: the CLI require()s its modules and import()s the heavy ones on demand.
    tsx = [require('tsx/cjs/api'), require('tsx/esm/api')];
  } catch {
    process.stderr.write('qwen3guard: no build in dist/ and no tsx to run the sources with: run `npm run build` (or `npm ci` for the development dependencies)\n');
    process.exit(3);
  }
  // tsx would look for tsconfig.json in the working directory; the sources need this project's (decorators).
  process.env.TSX_TSCONFIG_PATH ??= join(root, 'tsconfig.json');
  for (const loader of tsx) loader.register();
  require(join(root, 'src', 'cli', 'main.ts'));
}
