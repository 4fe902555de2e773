import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const PACKAGE_NAME = 'qwen3guard-gen-web';

/**
 * The service's version from its package.json (for qwen3guard_model_info), found by walking up from this
 * file: it sits at src/metrics/ when run from sources and at dist/src/metrics/ when built.
 */
export function serviceVersion(from: string = __dirname): string {
  let directory = from;
  for (let depth = 0; depth < 6; depth++) {
    try {
      const manifest = JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (manifest.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    } catch {
      // no (readable) package.json here: keep walking up
    }
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return 'unknown';
}
