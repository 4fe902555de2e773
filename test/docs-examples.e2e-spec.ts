import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { BuiltService, buildDist, ROOT, startBuiltService } from './support/build-output';
import { DocExample, documentationFiles, extractExamples, strayAnnotations } from './support/doc-examples';
import { compareOutput } from './support/doc-output';
import { MockHub } from './support/mock-hub';
import { cleanEnvironment } from './support/run-cli';
import { testTenant, writeTenantsFile } from './support/tenants';

jest.setTimeout(300_000);

/**
 * The documentation, executed: every shell and TypeScript example of README.md and docs/*.md runs, in
 * document order, against the compiled service started as `npm start` starts it (the demo model, no tenants
 * file) on free loopback ports, and what it prints is compared with what the document shows (see
 * test/support/doc-examples.ts for how a document shows it, doc-output.ts for the comparison). An example that
 * cannot run here says why in an annotation; this suite lists them.
 *
 * The environment an example finds: `qwen3guard` on the PATH (the compiled CLI, as `npm link` installs
 * it), the repository as working directory, the demo model's cache, a Hugging Face cache of its own and
 * HF_ENDPOINT on a mock Hub that serves the demo model as `owner/Qwen3Guard-Gen-0.6B-ONNX`. Examples
 * annotated "run with a tenants file" go to a second service whose tenants file holds the tenant
 * `comments` (its key in $KEY), which has sent /v1/moderations requests.
 */

const EXAMPLE_TIMEOUT_MS = 90_000;
const STATUS_MARK = '@@docs-example-exit-status';
const HUB_REPO = 'owner/Qwen3Guard-Gen-0.6B-ONNX';

const files = documentationFiles(ROOT);
const examples = extractExamples(ROOT, files);
const runnable = examples.filter((example) => example.run.kind !== 'not-run');

/** This environment without what would choose a model, a Hub, a mode or a key for the service or the CLI. */
function exampleEnvironment(): NodeJS.ProcessEnv {
  const { NODE_ENV: _mode, KEY: _key, ...rest } = cleanEnvironment();
  return rest;
}

interface Target {
  service: BuiltService;
  env: NodeJS.ProcessEnv;
}

/** The example's code aimed at the test's service: the documented ports become its loopback ports. */
function aimedAt(code: string, service: BuiltService): string {
  return code.replace(/localhost:8080/g, `127.0.0.1:${service.port}`).replace(/localhost:8000/g, `127.0.0.1:${service.metricsPort}`);
}

interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a program in its own process group, killed whole after EXAMPLE_TIMEOUT_MS. */
function runProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => {
    timedOut = true;
    process.kill(-child.pid!, 'SIGKILL');
  }, EXAMPLE_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/**
 * A shell example as one bash script (so variables carry from one command to the next), each command followed
 * by a marker line with its exit status; every command must exit 0 and print what the document shows.
 */
async function runShellExample(example: DocExample, target: Target): Promise<string[]> {
  // A failed command ends the script: what follows it may rely on it (a `cd`, a file it writes).
  const script = example.commands
    .map(
      (command) => `${aimedAt(command.source, target.service)}\nstatus=$?; printf '\\n${STATUS_MARK} %s\\n' "$status"; [ "$status" = 0 ] || exit "$status"\n`,
    )
    .join('');
  const run = await runProcess('bash', ['-c', script], target.env);
  if (run.timedOut) return [`timed out after ${EXAMPLE_TIMEOUT_MS} ms; stderr:\n${run.stderr}`];
  const parts = run.stdout.split(new RegExp(`\\n${STATUS_MARK} (\\d+)\\n`));
  return example.commands.flatMap((command, index) => {
    const output = parts[2 * index];
    const status = parts[2 * index + 1];
    const label = `line ${command.line} (${command.source.split('\n')[0].trim()})`;
    if (status === undefined) return [`${label}: did not finish (the script stopped); stderr:\n${run.stderr}`];
    if (status !== '0') return [`${label}: exited ${status}; output:\n${output}\nstderr:\n${run.stderr}`];
    const last = index === example.commands.length - 1;
    if (command.expected && last && example.followingJson) return [`${label}: its output is shown twice (# lines and a json block)`];
    const documented = command.expected ?? (last ? example.followingJson : undefined);
    return documented ? compareOutput(documented, output).map((difference) => `${label}: ${difference}`) : [];
  });
}

/** A TypeScript example, as written (but for the port), in an ES module run by tsx inside the repository. */
async function runTypeScriptExample(example: DocExample, target: Target, directory: string): Promise<string[]> {
  const file = join(directory, `${example.where.replace(/[^\w]+/g, '-')}.mts`);
  writeFileSync(file, aimedAt(example.code, target.service));
  const run = await runProcess(join(ROOT, 'node_modules', '.bin', 'tsx'), [file], target.env);
  if (run.timedOut) return [`timed out after ${EXAMPLE_TIMEOUT_MS} ms; stderr:\n${run.stderr}`];
  if (run.code !== 0) return [`exited ${run.code}; stderr:\n${run.stderr}`];
  return example.followingJson ? compareOutput(example.followingJson, run.stdout) : [];
}

describe('the documentation examples, run (e2e)', () => {
  const hub = new MockHub();
  let workDir: string;
  let scriptsDir: string;
  let plain: Target;
  let withTenants: Target;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-docs-'));
    scriptsDir = join(ROOT, '.cache', 'docs-examples');
    mkdirSync(scriptsDir, { recursive: true });
    const cacheDir = join(workDir, 'cache');
    const [demoModel] = await Promise.all([ensureDemoModel(cacheDir), buildDist()]);
    hub.addRepo({ repoId: HUB_REPO, directory: demoModel });
    await hub.listen();

    // `qwen3guard` on the PATH, as `npm link` puts the package's bin there.
    const binDir = join(workDir, 'bin');
    mkdirSync(binDir);
    writeFileSync(join(binDir, 'qwen3guard'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'dist', 'src', 'cli', 'main.js')}" "$@"\n`);
    chmodSync(join(binDir, 'qwen3guard'), 0o755);

    const base = { ...exampleEnvironment(), QWEN3GUARD_CACHE_DIR: cacheDir, LOG_LEVEL: 'warn', QWEN3GUARD_USAGE_DB: ':memory:' };
    const exampleEnv = {
      ...exampleEnvironment(),
      PATH: `${binDir}:${process.env.PATH}`,
      QWEN3GUARD_CACHE_DIR: cacheDir,
      HF_HOME: join(workDir, 'huggingface'),
      HF_ENDPOINT: hub.endpoint,
    };

    const service = await startBuiltService(base);
    plain = { service, env: exampleEnv };

    const comments = testTenant('comments');
    const tenantsService = await startBuiltService({ ...base, QWEN3GUARD_TENANTS_FILE: writeTenantsFile(workDir, [comments]) });
    withTenants = { service: tenantsService, env: { ...exampleEnv, KEY: comments.key } };
    const traffic = await fetch(`http://127.0.0.1:${tenantsService.port}/v1/moderations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${comments.key}` },
      body: JSON.stringify({ input: ['hello', 'a gun'] }),
    });
    expect(traffic.status).toBe(200);
  });

  afterAll(async () => {
    await Promise.all([plain?.service.stop(), withTenants?.service.stop(), hub.close()]);
    rmSync(workDir, { recursive: true, force: true });
    rmSync(scriptsDir, { recursive: true, force: true });
  });

  it('finds the examples, and every annotation stands right before one', () => {
    expect(examples.filter((example) => example.where.startsWith('README.md:')).length).toBeGreaterThan(10);
    expect(strayAnnotations(ROOT, files)).toEqual([]);
    const notRun = examples.flatMap((example) => (example.run.kind === 'not-run' ? [`  ${example.where}: ${example.run.reason}`] : []));
    process.stdout.write(`documentation examples: ${runnable.length} run, ${notRun.length} not run:\n${notRun.join('\n')}\n`);
  });

  it.each(runnable.map((example) => [example.where, example] as const))('%s', async (_where, example) => {
    const target = example.run.kind === 'with-tenants' ? withTenants : plain;
    const failures = example.language === 'shell' ? await runShellExample(example, target) : await runTypeScriptExample(example, target, scriptsDir);
    if (failures.length > 0) {
      throw new Error(
        `${example.where}: the example does not do what the document shows:\n${failures.join('\n')}\n--- the service's log:\n${target.service.output().slice(-2000)}`,
      );
    }
  });
});

describe('the comparison of documented and real output', () => {
  const documented = ['{"safety_level":"unsafe","categories":["Violent"],"probabilities":{...},"latency_ms":512.3,"id":"modr-..."}'];
  const real = { safety_level: 'unsafe', categories: ['Violent'], probabilities: { safe: 0.1 }, latency_ms: 3.2, id: 'modr-1f' };
  const differences = (actual: unknown) => compareOutput(documented, JSON.stringify(actual));

  it('accepts the real output, whatever the elided values are', () => {
    expect(differences(real)).toEqual([]);
  });

  it.each([
    ['a field the document lacks', { ...real, decision: { action: 'block' } }, /\$\.decision: not documented/],
    ['a documented field the service dropped', { ...real, latency_ms: undefined }, /\$\.latency_ms: documented, but the service gave none/],
    ['another category', { ...real, categories: ['PII'] }, /\$\.categories\[0\]: "Violent" is documented, the service gave "PII"/],
    ['another level', { ...real, safety_level: 'safe' }, /\$\.safety_level/],
    ['a string where a number is shown', { ...real, latency_ms: 'fast' }, /\$\.latency_ms: a number is documented/],
    ['a string outside the documented pattern', { ...real, id: 'chatcmpl-1' }, /\$\.id/],
  ])('fails on %s', (_name, actual, difference) => {
    expect(differences(actual).join('\n')).toMatch(difference);
  });

  it('matches text lines in order, numbers and `...` standing for any', () => {
    expect(compareOutput(['qg_...', 'sha256:...'], 'qg_abc\nsha256:0f\n')).toEqual([]);
    expect(compareOutput(['total{code="200"} 42'], 'total{code="200"} 7\n')).toEqual([]);
    expect(compareOutput(['total{code="200"} 42'], 'total{code="500"} 7\n')).toHaveLength(1);
    expect(compareOutput(['qg_...', 'sha256:...'], 'sha256:0f\nqg_abc\n')).toHaveLength(1);
  });
});
