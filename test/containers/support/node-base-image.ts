/**
 * The Dockerfiles' Node.js base image (node:<.nvmrc>-bookworm-slim). Public container registries cannot be
 * reached from this kind of machine, so when the image can be neither found locally nor pulled, a stand-in is
 * built under the same name from what is reachable: a Debian bookworm minbase root filesystem (debootstrap from
 * the machine's apt source), the project's Node.js toolchain under /usr/local (tools/node-toolchain, the npm
 * registry's official binaries), and the machine's CA bundle, trusted by Node.js and npm.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTool, ROOT, run } from '../../monitoring/support/tools';
import { podman, podmanOk } from './podman';

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/**
 * Where the stand-in keeps the machine's CA bundle for Node.js and npm: outside /etc/ssl/certs, which a
 * Dockerfile's `apt-get install ca-certificates` regenerates from Debian's own list (Dockerfile.gpu's build stage
 * does), dropping the machine's CA that npm's cafile would then miss.
 */
const STAND_IN_CA = '/usr/local/etc/ssl/machine-ca-bundle.crt';
/** Label on a stand-in, bumped whenever its layout changes, so a stand-in of an earlier recipe is built again. */
const RECIPE_LABEL = 'org.qwen3guard.node-stand-in';
const RECIPE = '2';
const FALLBACK_DEBIAN_MIRROR = 'http://deb.debian.org/debian';
export const CACHE_DIR = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'qwen3guard-gen-web', 'containers');

export type BaseImageSource = 'local' | 'pulled' | 'stand-in';

/** `docker.io/library/node:...` for `node:...`: the name a pull would give, so FROM resolves to it. */
export function fullyQualified(image: string): string {
  const [first] = image.split('/');
  if (image.includes('/') && (first.includes('.') || first.includes(':'))) return image;
  return `docker.io/${image.includes('/') ? image : `library/${image}`}`;
}

/** The first apt source that carries bookworm itself (not -security/-updates), as debootstrap's mirror (it serves every suite). */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d').map((name) => join('/etc/apt/sources.list.d', name))];
  for (const file of files.filter(existsSync)) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
        const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1].split(/\s+/) ?? [];
        if (uris && suites.includes('bookworm')) return uris;
      }
    } else {
      const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
      if (line) return line[1];
    }
  }
  return FALLBACK_DEBIAN_MIRROR;
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** The image, present with the expected Node.js release: found locally, pulled, or built as a stand-in. */
export async function ensureNodeBaseImage(image: string, nodeVersion: string, log: (line: string) => void): Promise<BaseImageSource> {
  const name = fullyQualified(image);
  const rebuild = process.env.QWEN3GUARD_CONTAINERS_REBUILD_BASE === '1';
  if (!rebuild && (await nodeVersionIn(name)) === `v${nodeVersion}` && !(await isEarlierStandIn(name))) return 'local';
  if (!rebuild) {
    const pulled = await podman(['pull', name], 90_000);
    if (pulled.code === 0) return 'pulled';
    log(`${name} cannot be pulled here (${(pulled.stderr.trim().split('\n').at(-1) ?? '').slice(0, 200)}): building a local stand-in under that name`);
  }
  await buildStandIn(name, log);
  const built = await nodeVersionIn(name);
  if (built !== `v${nodeVersion}`) throw new Error(`the stand-in ${name} runs Node.js ${built}, not v${nodeVersion}`);
  return 'stand-in';
}

/** A stand-in of an earlier recipe: it sets NODE_EXTRA_CA_CERTS, which the real image never does, without this recipe's label. */
async function isEarlierStandIn(name: string): Promise<boolean> {
  const inspect = await podman(['image', 'inspect', '--format', `{{json .Config.Env}} {{index .Config.Labels "${RECIPE_LABEL}"}}`, name]);
  const [env, label] = [inspect.stdout.slice(0, inspect.stdout.lastIndexOf(' ')), inspect.stdout.slice(inspect.stdout.lastIndexOf(' ') + 1).trim()];
  return env.includes('NODE_EXTRA_CA_CERTS=') && label !== RECIPE;
}

async function nodeVersionIn(name: string): Promise<string | undefined> {
  if ((await podman(['image', 'exists', name])).code !== 0) return undefined;
  const version = await podman(['run', '--rm', '--network=none', name, 'node', '--version']);
  return version.code === 0 ? version.stdout.trim() : undefined;
}

async function buildStandIn(name: string, log: (line: string) => void): Promise<void> {
  const rootfs = await debianRootfsTarball('bookworm', log);
  const work = mkdtempSync(join(tmpdir(), 'qwen3guard-node-base-'));
  try {
    const tree = join(work, 'rootfs');
    mkdirSync(tree);
    execFileSync('tar', ['-C', tree, '-xf', rootfs]);
    // As Debian's -slim images ship: no apt lists or caches, no docs, man pages or translations.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info']) {
      for (const entry of listDir(join(tree, dir)).filter((name) => name !== 'partial' && name !== 'archives'))
        rmSync(join(tree, dir, entry), { recursive: true, force: true });
    }
    const toolchain = execFileSync('bash', [join(ROOT, 'tools', 'node-toolchain', 'install.sh')], { encoding: 'utf8' }).trim();
    for (const part of ['bin', 'lib', 'include', 'share']) {
      if (existsSync(join(toolchain, part))) cpSync(join(toolchain, part), join(tree, 'usr', 'local', part), { recursive: true, verbatimSymlinks: true });
    }
    mkdirSync(join(tree, 'etc', 'ssl', 'certs'), { recursive: true });
    copyFileSync(CA_BUNDLE, join(tree, CA_BUNDLE));
    mkdirSync(join(tree, STAND_IN_CA, '..'), { recursive: true });
    copyFileSync(CA_BUNDLE, join(tree, STAND_IN_CA));
    // npm's global config (<prefix>/etc/npmrc): the CA for the registry, the headers node-gyp would otherwise download.
    writeFileSync(join(tree, 'usr', 'local', 'etc', 'npmrc'), `cafile=${STAND_IN_CA}\nnodedir=/usr/local\n`);
    const tarball = join(work, 'node-base.tar');
    execFileSync('tar', ['-C', tree, '-cf', tarball, '.']);
    await podmanOk(
      [
        'import',
        '--change',
        `ENV NODE_EXTRA_CA_CERTS=${STAND_IN_CA}`,
        '--change',
        `LABEL ${RECIPE_LABEL}=${RECIPE}`,
        '--change',
        'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--change',
        'CMD ["node"]',
        tarball,
        name,
      ],
      300_000,
    );
    log(`built the stand-in ${name}: Debian bookworm minbase + Node.js from ${toolchain} + ${CA_BUNDLE} (trusted from ${STAND_IN_CA})`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** debootstrap's minbase <suite> as a tarball, cached under CACHE_DIR (made again whenever it is missing). */
export async function debianRootfsTarball(suite: 'bookworm' | 'trixie', log: (line: string) => void): Promise<string> {
  const tarball = join(CACHE_DIR, `debian-${suite}-minbase.tar`);
  if (existsSync(tarball)) {
    log(`Debian ${suite} root filesystem from the cache: ${tarball}`);
    return tarball;
  }
  mkdirSync(CACHE_DIR, { recursive: true });
  const tree = mkdtempSync(join(tmpdir(), 'qwen3guard-debootstrap-'));
  try {
    const mirror = debianMirror();
    const started = Date.now();
    const result = await run(findTool('debootstrap')!, ['--variant=minbase', suite, tree, mirror], { timeoutMs: 600_000 });
    if (result.code !== 0) throw new Error(`debootstrap ${suite} from ${mirror} exited ${result.code}:\n${(result.stdout + result.stderr).slice(-4000)}`);
    log(`debootstrap --variant=minbase ${suite} from ${mirror}: ${((Date.now() - started) / 1000).toFixed(0)} s`);
    execFileSync('tar', ['-C', tree, '-cf', `${tarball}.partial`, '.']);
    renameSync(`${tarball}.partial`, tarball);
    return tarball;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}
