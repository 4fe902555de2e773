import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, matchesGlob, relative } from 'node:path';
import { promisify } from 'node:util';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { buildDist, ROOT } from './support/build-output';
import { freePort, waitFor } from './monitoring/support/tools';

jest.setTimeout(300_000);

/**
 * What `npm run build` leaves in dist/ runs on its own: `npm run start:prod` (what `npm start` runs after the
 * build) and the `qwen3guard` bin (with its shebang) both start the service, and the playground's static
 * files are found next to the compiled code. dist/ is the compiled src/ and nothing else.
 */
describe('the build output (e2e)', () => {
  let cacheDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    // Left by an earlier build: a build starts from an empty dist/, as nest-cli.json's deleteOutDir says.
    mkdirSync(join(ROOT, 'dist', 'stale'), { recursive: true });
    writeFileSync(join(ROOT, 'dist', 'stale', 'left-over.js'), '');
    await buildDist();
    cacheDir = mkdtempSync(join(tmpdir(), 'qwen3guard-build-'));
    await ensureDemoModel(cacheDir);
  });

  afterAll(async () => {
    await Promise.all(children.map(stop));
    if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
  });

  it('declares the qwen3guard bin, an executable script for node', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    const bin = join(ROOT, manifest.bin.qwen3guard);
    expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(bin).mode & 0o111).toBe(0o111);
    expect(existsSync(join(ROOT, 'dist', 'src', 'playground', 'public', 'index.html'))).toBe(true);
  });

  it('holds the compiled src/ only: no bench/, no tools/, nothing left from an earlier build', () => {
    expect(
      readdirSync(join(ROOT, 'dist'), { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => entry.name),
    ).toEqual(['src']);
  });

  it("nest-cli.json declares the same output: an emptied dist/, the playground's files as assets next to the code", () => {
    const { sourceRoot, compilerOptions } = JSON.parse(readFileSync(join(ROOT, 'nest-cli.json'), 'utf8')) as {
      sourceRoot: string;
      compilerOptions: { deleteOutDir: boolean; assets: Array<{ include: string; outDir: string }> };
    };
    expect(compilerOptions.deleteOutDir).toBe(true);
    const publicDir = join(ROOT, sourceRoot, 'playground', 'public');
    const files = readdirSync(publicDir, { recursive: true, encoding: 'utf8' }).map((file) => relative(join(ROOT, sourceRoot), join(publicDir, file)));
    expect(files).toContain(join('playground', 'public', 'index.html'));
    for (const file of files) {
      // Nest copies an asset to its outDir at its path under sourceRoot: dist/src/playground/public/, where the build puts it.
      const asset = compilerOptions.assets.find(({ include }) => matchesGlob(file, include));
      expect({ file, outDir: asset?.outDir }).toEqual({ file, outDir: join('dist', sourceRoot) });
      expect(existsSync(join(ROOT, 'dist', sourceRoot, file))).toBe(true);
    }
  });

  it.each([
    ['npm run start:prod', 'npm', ['run', 'start:prod']],
    ['qwen3guard serve', process.execPath, ['bin/qwen3guard.js', 'serve']],
  ])('%s serves the API and the playground, without building', async (_name, command, args) => {
    const built = builtAt();
    const port = await freePort();
    // A process group of its own: npm runs the service in a shell of its own, and stop() ends them all.
    const child = spawn(command, args, {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_PORT: '0',
        QWEN3GUARD_CACHE_DIR: cacheDir,
        QWEN3GUARD_USAGE_DB: ':memory:',
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
      },
      stdio: 'ignore',
      detached: true,
    });
    children.push(child);
    // Nothing to build (the demo model is), but loading Nest takes a few seconds.
    const page = await waitFor('the service to listen', () => fetch(`http://127.0.0.1:${port}/`), 60_000);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Qwen3Guard-Gen playground</title>');
    expect((await fetch(`http://127.0.0.1:${port}/playground.js`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
    // A rebuild would have emptied dist/ and written these again.
    expect(builtAt()).toEqual(built);
  });

  it('qwen3guard serve exits 3 with one line when the service cannot start', async () => {
    const run = await promisify(execFile)(process.execPath, [join('bin', 'qwen3guard.js'), 'serve', '--model', 'not-a-repo-id'], { cwd: ROOT }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(run).toMatchObject({
      code: 3,
      stderr:
        'Qwen3Guard-Gen-WEB did not start: invalid configuration: QWEN3GUARD_MODEL must be a Hugging Face repo id, owner/name (not-a-repo-id is not one)\n',
    });
  });
});

/** When the build wrote the service's entry point and the playground's page. */
function builtAt(): number[] {
  return [join('dist', 'src', 'main.js'), join('dist', 'src', 'playground', 'public', 'index.html')].map((file) => statSync(join(ROOT, file)).mtimeMs);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    process.kill(-child.pid!, 'SIGTERM');
  });
}
