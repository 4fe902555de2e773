import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = join(__dirname, '..', '..');

/**
 * The environment a CLI run starts from: this one without the variables that choose a model or a Hub, nor
 * npm's own (`npm test` sets npm_config_local_prefix, which would make an `npx` in another folder use this one).
 */
export function cleanEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(QWEN3GUARD_|HF_|HUGGINGFACE_|npm_)/i.test(name)));
}

export interface RunOptions {
  /** Laid over the clean environment. */
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (closed at once when there is none). */
  input?: string;
  /** The working directory; the repository root unless given. */
  cwd?: string;
}

/** Runs `qwen3guard` from the sources (tsx, as `npx tsx src/cli/main.ts`) as a child process. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return runCommand(join(ROOT, 'node_modules', '.bin', 'tsx'), [join(ROOT, 'src', 'cli', 'main.ts'), ...args], options);
}

/** Runs a program as a child process, with its exit code, stdout and stderr. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
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
