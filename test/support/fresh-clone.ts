import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './build-output';

/**
 * What a fresh clone of this working tree holds, in a new temporary folder: the files git tracks or would
 * add (uncommitted changes included, ignored files such as dist/ left out), with their modes. Nothing is
 * built. `node_modules` is a link to this checkout's, standing in for `npm ci`.
 */
export function freshClone(): string {
  const clone = mkdtempSync(join(tmpdir(), 'qwen3guard-clone-'));
  const listing = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' });
  for (const file of listing.split('\0').filter((path) => path !== '' && existsSync(join(ROOT, path)))) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(clone, file));
  }
  return clone;
}

/** Gives a clone the dependencies, as `npm ci` would have. */
export function linkDependencies(clone: string): void {
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
}
