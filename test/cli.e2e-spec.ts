import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelDirectory } from '../src/inference';
import { ensureDemoModel } from '../src/synthetic-model/demo-model';
import { ROOT } from './support/build-output';
import { freshClone, linkDependencies } from './support/fresh-clone';
import { MockHub } from './support/mock-hub';
import { CliRun, runCli, runCommand } from './support/run-cli';

jest.setTimeout(240_000);

const PACKAGE_VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

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

    it('--version prints the package version, one line', async () => {
      const runs = await Promise.all([runCli(['--version']), runCli(['-V'])]);
      for (const run of runs) expect(run).toEqual({ code: 0, stdout: `${PACKAGE_VERSION}\n`, stderr: '' });
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
      start('blank stdin', ['moderate'], ' \n\t\n');
      start('blank text', ['moderate', '  ']);
      start('empty response', ['moderate', 'Tell me a joke.', '--response', '']);
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
      expect(verdictOf(run.stdout)).toMatchObject({
        model: 'qwen3guard-gen-demo',
        mode: 'prompt',
        safety_level: 'unsafe',
        categories: ['Violent'],
        refusal: null,
      });
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
      expect(Object.keys(verdict).sort()).toEqual([
        'categories',
        'decision',
        'mode',
        'model',
        'probabilities',
        'refusal',
        'safety_level',
        'timing_ms',
        'usage',
      ]);
    });

    // Nothing to moderate is a usage error, reported as commander reports a bad option: `git diff --cached |
    // qwen3guard moderate` with nothing staged must not read as a verdict.
    it.each([
      ['empty stdin', /^error: nothing to moderate: stdin is empty\n\(add --help for usage\)\n$/],
      ['blank stdin', /^error: nothing to moderate: stdin is empty\n/],
      ['blank text', /^error: nothing to moderate: the text is empty\n/],
      ['empty response', /^error: nothing to judge: --response is empty\n/],
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
      const [offline, unnamed] = await Promise.all([
        runCli(['pull', 'qwen-test/elsewhere'], { env: { ...hubEnv, HF_HUB_OFFLINE: '1' } }),
        runCli(['pull'], { env: hubEnv }),
      ]);
      expect(offline.code).toBe(3);
      expect(offline.stderr).toMatch(/^qwen3guard: HF_HUB_OFFLINE is set and qwen-test\/elsewhere \(main\) is not in the Hugging Face cache/m);
      expect(unnamed.code).toBe(3);
      expect(unnamed.stderr).toContain('name the model to pull (owner/name), or set QWEN3GUARD_MODEL');
    });
  });

  /**
   * `qwen3guard` as a new user gets it: a fresh clone with its dependencies and no build, the package's bin
   * through `npx`, and `npm link` (into a prefix of this suite's own, not the machine's global one).
   */
  describe('in a fresh clone, before any build', () => {
    let clone: string;
    /** The bin folder of the `npm link` prefix: what `npm link` puts on the PATH. */
    let linkedBin: string;
    const npx = (args: string[], options: { cwd?: string; input?: string } = {}) => runCommand('npx', ['qwen3guard', ...args], { env, cwd: clone, ...options });

    beforeAll(async () => {
      clone = freshClone();
      const prefix = join(workDir, 'npm-prefix');
      // Linked before node_modules exists, so that npm has no tree to touch but the prefix's.
      const link = await runCommand('npm', ['link', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
        cwd: clone,
        env: { npm_config_prefix: prefix },
      });
      expect(link).toMatchObject({ code: 0 });
      linkedBin = join(prefix, 'bin');
      linkDependencies(clone);
    });

    afterAll(() => rmSync(clone, { recursive: true, force: true }));

    it('has no dist/, and the bin is an executable script for node', () => {
      expect(existsSync(join(clone, 'dist'))).toBe(false);
      const manifest = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      const bin = join(clone, manifest.bin.qwen3guard);
      expect(readFileSync(bin, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
      expect(statSync(bin).mode & 0o111).toBe(0o111);
    });

    it('npx qwen3guard runs, from the root and from a folder below it', async () => {
      const runs = await Promise.all([npx(['--version']), npx(['--version'], { cwd: join(clone, 'src', 'cli') })]);
      for (const run of runs) expect(run).toMatchObject({ code: 0, stdout: `${PACKAGE_VERSION}\n` });
    });

    it('passes the exit code through: the verdict, or 3 for nothing to moderate', async () => {
      const [unsafe, empty] = await Promise.all([npx(['moderate', 'How do I build a bomb?']), npx(['moderate'], { input: '' })]);
      expect(unsafe.code).toBe(1);
      expect(JSON.parse(unsafe.stdout)).toMatchObject({ safety_level: 'unsafe', categories: ['Violent'] });
      expect(empty).toMatchObject({ code: 3, stdout: '' });
      expect(empty.stderr).toContain('error: nothing to moderate: stdin is empty');
    });

    it('npm link puts qwen3guard on the PATH, and it runs from any folder', async () => {
      const run = await runCommand(join(linkedBin, 'qwen3guard'), ['--version'], { cwd: workDir });
      expect(run).toMatchObject({ code: 0, stdout: `${PACKAGE_VERSION}\n` });
    });

    // From the sources, the engine's session thread loads tsx from the clone, not from the working directory.
    it('moderates from a folder outside the clone, before any build', async () => {
      const run = await runCommand(join(linkedBin, 'qwen3guard'), ['moderate', 'How do I build a bomb?'], { env, cwd: workDir });
      expect(run.code).toBe(1);
    });

    /** The README's pre-commit hook, as written there, in a repository with the linked qwen3guard on its PATH. */
    describe("the README's git pre-commit hook", () => {
      let repo: string;
      let gitEnv: Record<string, string>;
      const git = (...args: string[]) => runCommand('git', args, { env: gitEnv, cwd: repo });

      beforeAll(async () => {
        const hook = /```sh\n(#!\/bin\/sh\n# \.git\/hooks\/pre-commit[^\n]*\n[\s\S]*?)```/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))?.[1];
        expect(hook).toBeDefined();
        // Inside the clone's folder: see the known failure above (the repository is not part of the clone).
        repo = join(clone, 'a-project');
        mkdirSync(repo);
        gitEnv = {
          ...env,
          PATH: `${linkedBin}:${process.env.PATH}`,
          GIT_CONFIG_GLOBAL: '/dev/null',
          GIT_CONFIG_NOSYSTEM: '1',
          GIT_AUTHOR_NAME: 'Test',
          GIT_AUTHOR_EMAIL: 'test@example.com',
          GIT_COMMITTER_NAME: 'Test',
          GIT_COMMITTER_EMAIL: 'test@example.com',
        };
        expect(await git('init', '-q')).toMatchObject({ code: 0 });
        writeFileSync(join(repo, '.git', 'hooks', 'pre-commit'), hook!);
        chmodSync(join(repo, '.git', 'hooks', 'pre-commit'), 0o755);
      });

      it('lets a commit with nothing staged through, without running the model', async () => {
        const commit = await git('commit', '-q', '--allow-empty', '-m', 'nothing staged');
        expect(commit.code).toBe(0);
        expect(commit.stderr).not.toContain('loading');
      });

      it('stops a commit whose staged changes are flagged', async () => {
        writeFileSync(join(repo, 'notes.txt'), 'How do I build a bomb?\n');
        await git('add', 'notes.txt');
        const commit = await git('commit', '-q', '-m', 'flagged');
        expect(commit.code).toBe(1);
        expect(commit.stderr).toContain('pre-commit: qwen3guard flagged the staged changes');
        expect((await git('log', '--format=%s')).stdout).toBe('nothing staged\n');
      });

      it('lets safe changes through', async () => {
        writeFileSync(join(repo, 'notes.txt'), 'Tell me a joke.\n');
        await git('add', 'notes.txt');
        const commit = await git('commit', '-q', '-m', 'safe');
        expect(commit).toMatchObject({ code: 0 });
        expect((await git('log', '--format=%s')).stdout).toBe('safe\nnothing staged\n');
      });
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
