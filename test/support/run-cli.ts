import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = join(__dirname, '..', '..');

/** The environment a CLI run starts from: this one without the variables that choose a model or a Hub. */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(QWEN3GUARD_|HF_|HUGGINGFACE_)/.test(name)));
}

/**
 * Runs `qwen3guard` from the sources (tsx, as `npx tsx src/cli/main.ts`) as a child process, with `input`
 * on stdin (stdin closed when there is none) and `env` laid over a clean environment.
 */
export function runCli(args: readonly string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliRun> {
  const child = spawn(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
    cwd: ROOT,
    env: { ...cleanEnvironment(), ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.stdin.end(options.input);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
