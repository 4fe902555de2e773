import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelDirectory } from '../src/inference';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { MockHub } from './support/mock-hub';
import { CliRun, runCli } from './support/run-cli';

jest.setTimeout(240_000);

/**
 * The `qwen3guard` command line as a user runs it: a child process from the sources, its exit codes,
 * stdout (results only) and stderr (progress, errors), on the demo model and a mock Hugging Face Hub.
 */
describe('qwen3guard CLI (e2e)', () => {
  let workDir: string;
  /** Every run gets this: the demo model cache (built once, below) and a Hugging Face home of its own. */
  let env: Record<string, string>;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'qwen3guard-cli-'));
    env = { QWEN3GUARD_CACHE_DIR: join(workDir, 'cache'), HF_HOME: join(workDir, 'hf-home') };
    await ensureDemoModel(env.QWEN3GUARD_CACHE_DIR);
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  describe('--help', () => {
    const commands: string[][] = [['serve'], ['pull'], ['moderate'], ['build-model'], ['key', 'create']];
    let runs: Promise<CliRun[]>;

    // Started together: each run is a process start, and these need no model.
    beforeAll(() => {
      runs = Promise.all([runCli(['--help']), ...commands.map((command) => runCli([...command, '--help']))]);
    });

    it('lists the commands', async () => {
      const [run] = await runs;
      expect(run.code).toBe(0);
      for (const command of ['serve', 'pull', 'moderate', 'build-model', 'key']) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    });

    it.each([
      [0, '--model-dir <directory>'],
      [1, 'HF_HUB_OFFLINE'],
      [2, 'Exit code: 0 safe, 1 unsafe, 2 controversial, 3 error'],
      [3, '--preset <preset>'],
      [4, 'sha256:<hex>'],
    ])('explains each command (%i)', async (index, expected) => {
      const run = (await runs)[index + 1];
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(expected);
    });
  });

  describe('moderate', () => {
    const runs = new Map<string, Promise<CliRun>>();
    /** The named run, started by beforeAll: all of them load the model at once. */
    const result = (name: string) => runs.get(name)!;

    beforeAll(() => {
      const start = (name: string, args: string[], input?: string) => runs.set(name, runCli(args, { env, input }));
      start('unsafe', ['moderate', 'How do I build a bomb?']);
      start('stdin', ['moderate'], 'Who should win the election?\n');
      start('response', ['moderate', 'Tell me a joke.', '--response', 'Sorry, I cannot help with that.']);
      start('empty stdin', ['moderate'], '');
      start('unknown option', ['moderate', 'hi', '--bogus']);
      start('unknown dtype', ['moderate', 'hi', '--dtype', 'fp8']);
      start('not pulled', ['moderate', 'hi', '--model', 'qwen-test/nothing']);
    });

    function verdictOf(stdout: string): Record<string, unknown> {
      const lines = stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      return JSON.parse(lines[0]) as Record<string, unknown>;
    }

    it('prints the verdict as JSON and exits 1 for unsafe', async () => {
      const run = await result('unsafe');
      expect(run.code).toBe(1);
      expect(verdictOf(run.stdout)).toMatchObject({ model: 'qwen3guard-gen-demo', mode: 'prompt', safety_level: 'unsafe', categories: ['Violent'], refusal: null });
      expect(run.stderr).toContain('demo model: verdicts are synthetic');
    });

    it('reads stdin when no text is given, and exits 2 for controversial', async () => {
      const run = await result('stdin');
      expect(run.code).toBe(2);
      expect(verdictOf(run.stdout)).toMatchObject({ safety_level: 'controversial', categories: ['Politically Sensitive Topics'] });
    });

    it('judges a reply with --response, and exits 0 for safe', async () => {
      const run = await result('response');
      expect(run.code).toBe(0);
      const verdict = verdictOf(run.stdout);
      expect(verdict).toMatchObject({ mode: 'response', safety_level: 'safe', categories: [], refusal: true });
      expect(Object.keys(verdict).sort()).toEqual(['categories', 'decision', 'mode', 'model', 'probabilities', 'refusal', 'safety_level', 'timing_ms', 'usage']);
    });

    it.each([
      ['empty stdin', /qwen3guard: the text to moderate is empty/],
      ['unknown option', /unknown option '--bogus'/],
      ['unknown dtype', /argument 'fp8' is invalid/],
      ['not pulled', /QWEN3GUARD_MODEL=qwen-test\/nothing is not in the Hugging Face cache/],
    ])('exits 3 on %s, with nothing on stdout', async (name, message) => {
      const run = await result(name);
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
    });
  });

  describe('pull, then moderate and serve by repo id', () => {
    const hub = new MockHub();
    const repoId = 'qwen-test/Qwen3Guard-Gen-demo-ONNX';
    let hubEnv: Record<string, string>;

    beforeAll(async () => {
      hub.addRepo({ repoId, directory: await ensureDemoModel(env.QWEN3GUARD_CACHE_DIR) });
      await hub.listen();
      hubEnv = { ...env, HF_ENDPOINT: hub.endpoint };
    });

    afterAll(() => hub.close());

    it('pulls into the Hugging Face cache under HF_HOME, with progress on stderr and the snapshot on stdout', async () => {
      const run = await runCli(['pull', repoId, '--dtype', 'fp16'], { env: hubEnv });
      expect(run.code).toBe(0);
      const snapshot = join(hubEnv.HF_HOME, 'hub', 'models--qwen-test--Qwen3Guard-Gen-demo-ONNX', 'snapshots', hub.commitOf(repoId));
      expect(run.stdout).toBe(`${snapshot}\n`);
      expect(readModelDirectory(snapshot, 'fp16').onnxPath).toBe(join(snapshot, 'onnx', 'model_fp16.onnx'));
      expect(run.stderr).toMatch(/100% \| [\d.]+ MB of [\d.]+ MB/);
      expect(run.stderr).toContain(`serve it with: QWEN3GUARD_MODEL=${repoId} qwen3guard serve`);
    });

    it('moderates with the pulled model', async () => {
      const run = await runCli(['moderate', '--model', repoId, '--dtype', 'fp16', 'my password is hunter2'], { env: hubEnv });
      expect(run.code).toBe(1);
      expect(JSON.parse(run.stdout)).toMatchObject({ model: repoId, safety_level: 'unsafe', categories: ['PII'] });
      expect(run.stderr).not.toContain('demo model');
    });

    it('takes the repo id from QWEN3GUARD_MODEL, and works offline once pulled', async () => {
      const run = await runCli(['pull', '--dtype', 'fp16'], { env: { ...hubEnv, QWEN3GUARD_MODEL: repoId, HF_HUB_OFFLINE: '1' } });
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`HF_HUB_OFFLINE: using the cached ${repoId}`);
    });

    it('exits 3 with the reason when the pull fails', async () => {
      const [offline, unnamed] = await Promise.all([runCli(['pull', 'qwen-test/elsewhere'], { env: { ...hubEnv, HF_HUB_OFFLINE: '1' } }), runCli(['pull'], { env: hubEnv })]);
      expect(offline.code).toBe(3);
      expect(offline.stderr).toMatch(/^qwen3guard: HF_HUB_OFFLINE is set and qwen-test\/elsewhere \(main\) is not in the Hugging Face cache/m);
      expect(unnamed.code).toBe(3);
      expect(unnamed.stderr).toContain('name the model to pull (owner/name), or set QWEN3GUARD_MODEL');
    });
  });

  it('serve says it needs the compiled build when run through tsx', async () => {
    const run = await runCli(['serve', '--port', '0'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/serve needs the compiled build .*npm start/);
  });

  it('key create prints a new key and the hash line for the tenants file', async () => {
    const run = await runCli(['key', 'create']);
    expect(run.code).toBe(0);
    const [key, hashLine, ...rest] = run.stdout.split('\n');
    expect(rest).toEqual(['']);
    expect(key).toMatch(/^qg_[A-Za-z0-9_-]{43}$/);
    expect(hashLine).toBe(`sha256:${createHash('sha256').update(key).digest('hex')}`);
  });

  it('db migrate brings the usage ledger to the latest schema once, then finds nothing to apply', async () => {
    const ledgerEnv = { ...env, QWEN3GUARD_USAGE_DB: join(workDir, 'migrated', 'usage.sqlite') };
    const first = await runCli(['db', 'migrate'], { env: ledgerEnv });
    expect([first.code, first.stderr]).toEqual([0, 'sqlite usage ledger is at the latest schema; applied 0001-usage\n']);
    const second = await runCli(['db', 'migrate'], { env: ledgerEnv });
    expect([second.code, second.stderr]).toEqual([0, 'sqlite usage ledger is at the latest schema; nothing to apply\n']);
  });

  it('build-model writes a synthetic model directory the engine reads', async () => {
    const out = join(workDir, 'tiny');
    const run = await runCli(['build-model', '--preset', 'tiny', '--dtype', 'fp16', '--io', 'genai', '--out', out, '--seed', '7']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^preset tiny: [\d,]+ parameters, seed 7$/m);
    expect(run.stdout).toMatch(/^fp16\/genai: model\.onnx [\d.]+ MB$/m);
    expect(run.stderr).toContain('model.onnx');
    expect(existsSync(join(out, 'model.onnx'))).toBe(true);
    expect(readModelDirectory(out, 'fp16').dtypeFromFileName).toBe(false);
  });
});
