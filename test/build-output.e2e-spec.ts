import { ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { buildDist, ROOT } from './support/build-output';
import { freePort, waitFor } from './monitoring/support/tools';

jest.setTimeout(300_000);

/**
 * What `npm run build` leaves in dist/ runs on its own: `npm start`'s entry point and the `qwen3guard` bin
 * (with its shebang) both start the service, and the playground's static files are found next to the
 * compiled code.
 */
describe('the build output (e2e)', () => {
  let cacheDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
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
    expect(existsSync(join(ROOT, 'dist', 'src', 'playground', 'public', 'index.html'))).toBe(true);
  });

  it.each([
    ['npm start (dist/src/main.js)', [join('dist', 'src', 'main.js')], {}],
    ['qwen3guard serve', [join('dist', 'src', 'cli', 'main.js'), 'serve'], {}],
  ])('%s serves the API and the playground', async (_name, args) => {
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: '0', QWEN3GUARD_CACHE_DIR: cacheDir, QWEN3GUARD_USAGE_DB: ':memory:', LOG_LEVEL: 'warn', NODE_ENV: 'test' },
      stdio: 'ignore',
    });
    children.push(child);
    // Nothing to build (the demo model is), but loading Nest takes a few seconds.
    const page = await waitFor('the service to listen', () => fetch(`http://127.0.0.1:${port}/`), 60_000);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Qwen3Guard-Gen playground</title>');
    expect((await fetch(`http://127.0.0.1:${port}/playground.js`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
  });

  it('qwen3guard serve exits 3 with one line when the service cannot start', async () => {
    const run = await promisify(execFile)(process.execPath, [join('dist', 'src', 'cli', 'main.js'), 'serve', '--model', 'not-a-repo-id'], { cwd: ROOT }).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(run).toMatchObject({ code: 3, stderr: 'Qwen3Guard-Gen-WEB did not start: invalid configuration: QWEN3GUARD_MODEL must be a Hugging Face repo id, owner/name (not-a-repo-id is not one)\n' });
  });
});

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
