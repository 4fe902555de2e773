// describe/it below: bench/shared-state.ts brings this file into `npm run build`, whose tsconfig loads only node's types.
/// <reference types="jest" />
/**
 * Shared helpers for the monitoring suites: locating the Prometheus tool binaries (Debian packages
 * prometheus, prometheus-alertmanager, prometheus-node-exporter, docker-compose), running them, free ports,
 * and the repository's monitoring files.
 *
 * A missing binary fails the suite when CI is set (.ci/run must install the packages) and skips it with a
 * message otherwise.
 */
import { execFile, spawn, ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { parse } from 'yaml';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const PROMETHEUS_DIR = join(ROOT, 'config', 'prometheus');
export const ALERTS_FILE = join(PROMETHEUS_DIR, 'alerts.yml');
export const PROMTOOL_TESTS_DIR = join(PROMETHEUS_DIR, 'tests');
export const ALERTMANAGER_FILE = join(ROOT, 'config', 'alertmanager', 'alertmanager.yml');
export const RUNBOOKS_FILE = join(ROOT, 'docs', 'runbooks.md');

/** Tool -> candidate executable names (Debian renames some) and the Debian package that ships it. */
export const TOOLS = {
  promtool: { names: ['promtool'], pkg: 'prometheus' },
  prometheus: { names: ['prometheus'], pkg: 'prometheus' },
  amtool: { names: ['amtool'], pkg: 'prometheus-alertmanager' },
  alertmanager: { names: ['alertmanager', 'prometheus-alertmanager'], pkg: 'prometheus-alertmanager' },
  nodeExporter: { names: ['node_exporter', 'prometheus-node-exporter'], pkg: 'prometheus-node-exporter' },
  dockerCompose: { names: ['docker-compose'], pkg: 'docker-compose' },
  podman: { names: ['podman'], pkg: 'podman' },
  runc: { names: ['runc'], pkg: 'runc' },
  debootstrap: { names: ['debootstrap'], pkg: 'debootstrap' },
} as const;
export type Tool = keyof typeof TOOLS;

export function findTool(tool: Tool): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    for (const name of TOOLS[tool].names) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * `describe` that needs binaries. Missing ones: under CI the suite fails with the package names to
 * install; elsewhere it is skipped with a console message.
 */
export function describeWithTools(title: string, tools: Tool[], body: (paths: Record<Tool, string>) => void): void {
  const missing = tools.filter((t) => !findTool(t));
  const paths = Object.fromEntries(tools.map((t) => [t, findTool(t) ?? ''])) as Record<Tool, string>;
  if (missing.length === 0) {
    describe(title, () => body(paths));
    return;
  }
  const packages = [...new Set(missing.map((t) => TOOLS[t].pkg))].join(' ');
  const message = `missing ${missing.map((t) => TOOLS[t].names.join('/')).join(', ')}: apt-get install -y ${packages}`;
  if (process.env.CI) {
    describe(title, () => {
      it('has the binaries it needs', () => {
        throw new Error(`${message} (CI is set, so missing tools fail the suite; .ci/run must install them)`);
      });
    });
  } else {
    console.warn(`SKIPPED, NOT RUN: "${title}": ${message}`);
    describe.skip(`${title} (skipped: ${message})`, () => body(paths));
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(file: string, args: string[], options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    execFile(
      file,
      args,
      { cwd: options.cwd ?? ROOT, timeout: options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, env: options.env },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolvePromise({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Starts a long-running binary; `stop()` kills exactly that process. */
export function start(file: string, args: string[], cwd = ROOT): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or throws with the last error. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export function readYaml<T = any>(file: string): T {
  return parse(readFileSync(file, 'utf8')) as T;
}

// --- alerts.yml --------------------------------------------------------------------------------------

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}
export interface RuleGroup {
  name: string;
  rules: Array<AlertRule | RecordingRule>;
}

export function loadRuleGroups(file = ALERTS_FILE): RuleGroup[] {
  return readYaml<{ groups: RuleGroup[] }>(file).groups;
}
export function alertRules(groups = loadRuleGroups()): AlertRule[] {
  return groups.flatMap((g) => g.rules).filter((r): r is AlertRule => 'alert' in r);
}
export function recordingRules(groups = loadRuleGroups()): RecordingRule[] {
  return groups.flatMap((g) => g.rules).filter((r): r is RecordingRule => 'record' in r);
}

/** GitHub-style heading anchors of a Markdown file. */
export function markdownAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.+?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const slug = m[1]
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .trim()
      .replace(/\s/g, '-');
    anchors.add(slug);
  }
  return anchors;
}
