import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(__dirname, '..', '..');

/** `npm run build`, as users run it, so that suites start the compiled service the way `npm start` does. */
export async function buildDist(): Promise<void> {
  await promisify(execFile)('npm', ['run', 'build'], { cwd: ROOT }).catch((error: { stdout?: string; message: string }) => {
    // tsc reports on stdout.
    throw new Error(`${error.message}\n${error.stdout ?? ''}`);
  });
}

/** The compiled service's entry point (what `npm start` runs). */
export const SERVICE_ENTRY = join(ROOT, 'dist', 'src', 'main.js');
