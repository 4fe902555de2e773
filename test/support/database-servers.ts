// describe/it below: bench/shared-state.ts brings this file into `npm run build`, whose tsconfig loads only node's types.
/// <reference types="jest" />
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, waitFor } from '../monitoring/support/tools';

/**
 * Throwaway PostgreSQL and Redis servers for the suites: Debian's `postgresql` and `redis-server` binaries
 * (.ci/run installs them), each instance in its own temporary folder on a free 127.0.0.1 port, stopped and
 * removed by the suite. Nothing here talks to a server the machine already runs.
 */

/** Debian installs PostgreSQL under /usr/lib/postgresql/<major>/bin, off PATH; the newest major wins. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  let majors: string[];
  try {
    majors = readdirSync(root).filter((name) => /^\d+$/.test(name));
  } catch {
    return undefined;
  }
  return majors
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, 'bin'))
    .find((bin) => executable(join(bin, 'initdb')) && executable(join(bin, 'postgres')));
}

export function findRedisServer(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(executable);
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `describe` for suites that need real PostgreSQL and Redis. Missing servers fail the suite under CI=true
 * (.ci/run must install them) and skip it, loudly, elsewhere.
 */
export function describeWithDatabaseServers(title: string, body: () => void): void {
  const missing = [...(findPostgresBin() ? [] : ['postgresql']), ...(findRedisServer() ? [] : ['redis-server'])];
  if (missing.length === 0) return describe(title, body);
  const message = `missing Debian packages: apt-get install -y ${missing.join(' ')}`;
  if (process.env.CI === 'true') {
    describe(title, () =>
      it('has the servers it needs', () => {
        throw new Error(`${message} (CI=true: .ci/run must install them)`);
      }),
    );
    return;
  }

  console.warn(`\n*** SKIPPING "${title}": ${message} ***\n`);
  describe.skip(`${title} (skipped: ${message})`, body);
}

/** initdb refuses to run as root: under root the cluster belongs to Debian's unprivileged `postgres` user. */
function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export interface PostgresOptions {
  /** Off for suites (speed; the server itself is never killed); on for benchmarks, as in production. */
  fsync?: boolean;
}

/** One PostgreSQL cluster in a temporary folder: start, stop (a fast shutdown) and start again on the same port. */
export class PostgresServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    private readonly bin: string,
    private readonly folder: string,
    readonly port: number,
    private readonly options: PostgresOptions,
  ) {}

  static async start(options: PostgresOptions = {}): Promise<PostgresServer> {
    const bin = findPostgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
    const folder = mkdtempSync(join(tmpdir(), 'qwen3guard-pg-'));
    const user = unprivilegedUser();
    for (const dir of [join(folder, 'data'), join(folder, 'socket')]) mkdirSync(dir);
    if (user) for (const dir of [folder, join(folder, 'data'), join(folder, 'socket')]) chownSync(dir, user.uid, user.gid);
    execFileSync(join(bin, 'initdb'), ['-D', join(folder, 'data'), '-U', 'qwen3guard', '--auth=trust', '-E', 'UTF8', '--no-sync'], {
      ...user,
      stdio: 'ignore',
      cwd: folder,
    });
    const server = new PostgresServer(bin, folder, await freePort(), options);
    await server.resume();
    return server;
  }

  /** A database URL for a fresh database of that name. */
  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url('postgres') });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  url(database: string): string {
    return `postgres://qwen3guard@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the (stopped) server again on its port and data, and waits until it accepts queries. */
  async resume(): Promise<void> {
    const settings = [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${join(this.folder, 'socket')}`,
      '-c',
      `fsync=${this.options.fsync ? 'on' : 'off'}`,
    ];
    this.child = spawn(join(this.bin, 'postgres'), ['-D', join(this.folder, 'data'), '-p', String(this.port), ...settings], {
      ...unprivilegedUser(),
      stdio: 'ignore',
      cwd: this.folder,
    });
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      'PostgreSQL to accept queries',
      async () => {
        const client = new Client({ connectionString: this.url('postgres'), connectionTimeoutMillis: 1000 });
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } catch {
          return undefined;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      30_000,
      100,
    );
  }

  /** Fast shutdown (SIGINT): open connections are cut, as when a database server goes away. */
  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGINT');
    await this.exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.folder, { recursive: true, force: true });
  }
}

/** One redis-server with no persistence in a temporary folder; stop and start again on the same port. */
export class RedisServer {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    private readonly folder: string,
    readonly port: number,
  ) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(mkdtempSync(join(tmpdir(), 'qwen3guard-redis-')), await freePort());
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async resume(): Promise<void> {
    const binary = findRedisServer();
    if (!binary) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
    let output = '';
    this.child = spawn(binary, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.folder], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const child = this.child;
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor('redis-server to accept connections', async () => (output.includes('Ready to accept connections') ? true : undefined), 20_000, 50);
  }

  async stop(): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  async remove(): Promise<void> {
    await this.stop();
    rmSync(this.folder, { recursive: true, force: true });
  }
}
