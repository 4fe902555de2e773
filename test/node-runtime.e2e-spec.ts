import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as semver from 'semver';

// The project runs on one maintained Node.js LTS line: package.json declares it, .nvmrc names the release CI
// installs (tools/node-toolchain/install.sh), and no locked dependency refuses that release (npm ci would warn).
const ROOT = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string; npm: string }; packageManager: string };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; os?: string[]; cpu?: string[] }>;
};
const release = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();

// npm skips a platform package (sharp's win32 builds, say) on other systems, engines field and all.
function installsHere({ os, cpu }: { os?: string[]; cpu?: string[] }): boolean {
  const allows = (list: string[] | undefined, value: string) =>
    !list || list.includes(value) || (list.some((item) => item.startsWith('!')) && !list.includes(`!${value}`));
  return allows(os, process.platform) && allows(cpu, process.arch);
}

describe('Node.js runtime', () => {
  it('declares an LTS line that has not reached its end of life, and .nvmrc names a release of it', () => {
    expect(semver.minVersion(manifest.engines.node)?.major).toBeGreaterThanOrEqual(24);
    expect(semver.major(release) % 2).toBe(0); // even majors are the LTS lines
    expect(semver.satisfies(release, manifest.engines.node)).toBe(true);
  });

  it('runs the tests on that release line', () => {
    expect(semver.satisfies(process.versions.node, manifest.engines.node)).toBe(true);
  });

  it('declares the npm it is locked with, exactly, within the npm range it accepts', () => {
    const [name, version] = manifest.packageManager.split('@');
    expect(name).toBe('npm');
    expect(semver.valid(version)).toBe(version);
    expect(semver.satisfies(version, manifest.engines.npm)).toBe(true);
  });

  it('locks no dependency whose engines field refuses that release (npm ci prints no engine warning)', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && installsHere(entry) && entry.engines && !Array.isArray(entry.engines) && entry.engines.node)
      .filter(([, entry]) => !semver.satisfies(release, (entry.engines as { node: string }).node, { includePrerelease: true }))
      .map(([path, entry]) => `${path} (node ${(entry.engines as { node: string }).node})`);
    expect(refusing).toEqual([]);
  });
});
