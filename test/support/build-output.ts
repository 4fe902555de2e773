import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../monitoring/support/tools';

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

export interface BuiltService {
  /** The API's port on 127.0.0.1. */
  port: number;
  metricsPort: number;
  /** What the service wrote to stdout and stderr so far (for a failure's message). */
  output(): string;
  stop(): Promise<void>;
  /** SIGKILL: no shutdown hook runs, as when a node dies; resolves once the process is gone. */
  kill(): Promise<void>;
  /** True while the process runs (false after it exited, for whatever reason). */
  running(): boolean;
}

/**
 * The compiled service (what `npm start` runs after its build) as a child process on 127.0.0.1, on free
 * ports, with `env` as its whole environment; resolves once `/health/ready` answers 200.
 */
export async function startBuiltService(env: NodeJS.ProcessEnv, readyTimeoutMs = 90_000): Promise<BuiltService> {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [SERVICE_ENTRY], {
    cwd: ROOT,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port), METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  };
  const ready = async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok === true;
  const deadline = Date.now() + readyTimeoutMs;
  while (!(await ready())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`the service ${child.exitCode !== null ? `exited with ${child.exitCode}` : `was not ready after ${readyTimeoutMs} ms`}:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return { port, metricsPort, output: () => output, stop, kill, running: () => child.exitCode === null && child.signalCode === null };
}
