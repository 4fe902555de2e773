import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { posix, join } from 'node:path';
import { parse } from 'yaml';
import { AppConfig } from '../src/config/app-config';
import { QWEN3_TOKENIZER_PACKAGE, qwen3TokenizerFile } from '../src/synthetic-model/qwen3-tokenizer-files';

const ROOT = join(__dirname, '..');
const CONFIG_DEFAULTS = new AppConfig();
/** The Node.js base both Dockerfiles name: the release .nvmrc pins, as the toolchain CI and `npm start` use. */
const NODE_IMAGE = `node:${readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()}-bookworm-slim`;

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/**
 * A Dockerfile as its stages and instructions: comments dropped, continuation lines joined, global ARG
 * defaults substituted into FROM. Enough to check what the files declare; no Docker engine exists here, so
 * the images themselves are not built by this suite.
 */
function readDockerfile(file: string): Stage[] {
  const lines = readFileSync(join(ROOT, file), 'utf8')
    .split('\n')
    .filter((line) => !/^\s*#/.test(line));
  const instructions: Instruction[] = [];
  let pending = '';
  for (const line of lines) {
    pending += line.replace(/\\\s*$/, ' ');
    if (/\\\s*$/.test(line)) continue;
    const match = /^\s*(\w+)\s+(.*)$/.exec(pending);
    if (match) instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim() });
    pending = '';
  }
  const globals: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const [image, , name] = instruction.args.replace(/\$\{(\w+)\}/g, (_all, arg: string) => globals[arg] ?? '').split(/\s+/);
      stages.push({ from: image, name, instructions: [] });
    } else if (stages.length === 0 && instruction.keyword === 'ARG') {
      const [name, value] = instruction.args.split('=');
      globals[name] = value;
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);
}

/** `ENV A=1 B=2` instructions of a stage, merged. */
function environment(stage: Stage): Record<string, string> {
  return Object.fromEntries(all(stage, 'ENV').flatMap((args) => args.split(/\s+/).map((pair) => pair.split('=') as [string, string])));
}

function deploymentPodSpec() {
  const deployment = parse(readFileSync(join(ROOT, 'k8s', 'base', 'deployment.yaml'), 'utf8')) as {
    spec: {
      template: {
        spec: { securityContext: { runAsUser: number; runAsGroup: number }; containers: Array<{ args: string[] }>; initContainers: Array<{ args: string[] }> };
      };
    };
  };
  return deployment.spec.template.spec;
}

describe.each([
  ['Dockerfile', NODE_IMAGE, new RegExp(`^${NODE_IMAGE.replaceAll('.', '\\.')}$`), 'cpu'],
  ['Dockerfile.gpu', "NVIDIA's CUDA 12 runtime with cuDNN", /^nvidia\/cuda:12\.[\d.]+-cudnn-runtime-ubuntu[\d.]+$/, 'cuda'],
])('%s', (file, runtimeName, runtimeBase, provider) => {
  const stages = readDockerfile(file);
  const runtime = stages.at(-1)!;
  const build = stages.find((stage) => stage.name === 'build')!;

  it(`builds in a separate ${NODE_IMAGE} stage (.nvmrc's release): npm ci (no install script approved, nothing compiled), then dev dependencies pruned`, () => {
    expect(build.from).toBe(NODE_IMAGE);
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
    expect(Object.entries(manifest.allowScripts).filter(([, allowed]) => allowed)).toEqual([]);
    const runs = all(build, 'RUN').join('\n');
    expect(runs).toMatch(/npm install -g npm@11\./);
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).toMatch(/npm run build && npm prune --omit=dev/);
  });

  it("keeps the demo tokenizer's JSON files but not its bundles, and onnxruntime-node's runtime for this platform only", () => {
    // The build stage's commands, run on hard-linked copies of the two packages in a scratch /app.
    const scratch = mkdtempSync(join(tmpdir(), 'qwen3guard-image-'));
    const app = join(scratch, 'app');
    const sh = (command: string) => execFileSync('sh', ['-c', command], { cwd: app });
    try {
      for (const name of [QWEN3_TOKENIZER_PACKAGE, 'onnxruntime-node']) {
        mkdirSync(join(app, 'node_modules', posix.dirname(name)), { recursive: true });
        execFileSync('cp', ['-al', join(ROOT, 'node_modules', name), join(app, 'node_modules', name)]);
      }
      const runs = all(build, 'RUN');
      const keptTokenizer = join(scratch, 'qwen3-tokenizer');
      sh(runs.find((run) => run.includes('/qwen3-tokenizer'))!.replaceAll('/qwen3-tokenizer', keptTokenizer));
      sh(/find node_modules\/onnxruntime-node\/.*$/.exec(runs.find((run) => run.includes('npm prune --omit=dev'))!)![0]);
      // npm prune removes the dev dependency; the runtime stage copies the kept files back in its place.
      rmSync(join(app, 'node_modules', QWEN3_TOKENIZER_PACKAGE), { recursive: true });
      const [source, target] = all(runtime, 'COPY')
        .find((args) => args.startsWith('--from=build /qwen3-tokenizer '))!
        .split(/\s+/)
        .slice(1);
      cpSync(source.replace('/qwen3-tokenizer', keptTokenizer), join(app, target), { recursive: true });

      const tokenizer = qwen3TokenizerFile('tokenizer.json', app);
      expect(tokenizer.startsWith(app)).toBe(true);
      expect(readFileSync(tokenizer).equals(readFileSync(qwen3TokenizerFile('tokenizer.json')))).toBe(true);
      expect(readdirSync(join(app, target)).sort()).toEqual(['LICENSE', 'models', 'package.json']);
      const binaries = join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
      expect(readdirSync(binaries)).toEqual(['linux']);
      expect(readdirSync(join(binaries, 'linux'))).toEqual([process.arch]);
      expect(existsSync(join(binaries, 'linux', process.arch, 'onnxruntime_binding.node'))).toBe(true);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it(`runs on ${runtimeName} as the non-root user the Kubernetes pods run as`, () => {
    expect(runtime.from).toMatch(runtimeBase);
    const users = all(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0].split(':').map(Number);
    expect(uid).toBeGreaterThan(0);
    const { securityContext } = deploymentPodSpec();
    expect([uid, gid]).toEqual([securityContext.runAsUser, securityContext.runAsGroup]);
  });

  it("exposes the configuration's default API and metrics ports", () => {
    expect(all(runtime, 'EXPOSE').join(' ').split(/\s+/).map(Number).sort()).toEqual([CONFIG_DEFAULTS.PORT, CONFIG_DEFAULTS.METRICS_PORT].sort());
  });

  it('writes only under directories the user owns and declares as volumes, so the root filesystem can be read-only', () => {
    const env = environment(runtime);
    const writable = [env.QWEN3GUARD_CACHE_DIR, posix.dirname(env.QWEN3GUARD_USAGE_DB), posix.dirname(env.HF_HOME)];
    const runs = all(runtime, 'RUN').join('\n');
    const chown = /chown 10001:10001 ([^\n&]+)/.exec(runs)?.[1].trim().split(/\s+/) ?? [];
    expect(writable.filter((directory) => !chown.includes(directory))).toEqual([]);
    const volumes = JSON.parse(all(runtime, 'VOLUME')[0]) as string[];
    expect(volumes.sort()).toEqual([env.QWEN3GUARD_CACHE_DIR, posix.dirname(env.QWEN3GUARD_USAGE_DB)].sort());
    expect(env.QWEN3GUARD_PROVIDER ?? CONFIG_DEFAULTS.QWEN3GUARD_PROVIDER).toBe(provider);
  });

  it("starts the package's qwen3guard bin: serve by default, pull for the Kubernetes init container", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: { qwen3guard: string } };
    expect(JSON.parse(all(runtime, 'ENTRYPOINT')[0])).toEqual(['node', manifest.bin.qwen3guard]);
    expect(JSON.parse(all(runtime, 'CMD')[0])).toEqual(['serve']);
    const pod = deploymentPodSpec();
    expect([pod.containers[0].args, pod.initContainers[0].args]).toEqual([['serve'], ['pull']]);
  });

  it('sends only what the build copies in the build context (.dockerignore)', () => {
    const rules = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() && !line.startsWith('#'));
    expect(rules[0]).toBe('**');
    const sources = all(build, 'COPY')
      .filter((args) => !args.startsWith('--from'))
      .flatMap((args) => args.split(/\s+/).slice(0, -1));
    for (const source of sources) {
      expect(existsSync(join(ROOT, source))).toBe(true);
      expect(rules).toContain(statSync(join(ROOT, source)).isDirectory() ? `!${source}/**` : `!${source}`);
    }
  });
});

describe('Dockerfile.gpu', () => {
  it("opts in to onnxruntime-node's CUDA 12 provider at build time, as the README's GPU section documents", () => {
    const build = readDockerfile('Dockerfile.gpu').find((stage) => stage.name === 'build')!;
    const command = 'ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js';
    expect(all(build, 'RUN').some((run) => run.endsWith(`&& ${command}`))).toBe(true);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(command);
    expect(readFileSync(join(ROOT, 'node_modules', 'onnxruntime-node', 'script', 'install-metadata.js'), 'utf8')).toContain("'linux/x64:cuda12'");
  });

  it('brings the Node 24 binary of the build stage into the CUDA image', () => {
    const stages = readDockerfile('Dockerfile.gpu');
    expect(stages.find((stage) => stage.name === 'node')?.from).toBe(NODE_IMAGE);
    expect(all(stages.at(-1)!, 'COPY')).toContain('--from=node /usr/local/bin/node /usr/local/bin/node');
  });
});
