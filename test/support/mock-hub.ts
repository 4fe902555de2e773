import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

/**
 * A stand-in for the Hugging Face Hub on 127.0.0.1, answering the calls @huggingface/hub makes to pull a
 * model: the model info (which commit a revision is), the recursive tree listing (paths, sizes, git and LFS
 * object ids), `paths-info` (the same for named paths, which downloadFileToCacheDir asks before it links a
 * snapshot file) and `resolve` downloads with HTTP Range. It serves directories from disk as
 * repositories, can demand a token, and can cut a download short once, to test resuming.
 */

export interface MockRepo {
  repoId: string;
  directory: string;
  /** When set, every call for this repo needs `Authorization: Bearer <token>`. */
  token?: string;
}

interface RepoFileEntry {
  path: string;
  absolutePath: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

interface ServedRepo extends MockRepo {
  commit: string;
  files: Map<string, RepoFileEntry>;
}

export interface RecordedRequest {
  method: string;
  url: string;
  range?: string;
  authorization?: string;
}

/** Files from this size up are listed as LFS files, as the Hub lists weights. */
const LFS_THRESHOLD = 1024 * 1024;

export class MockHub {
  readonly requests: RecordedRequest[] = [];
  private readonly repos = new Map<string, ServedRepo>();
  private readonly cuts = new Map<string, number>();
  private server: Server | undefined;

  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('the mock hub is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  addRepo(repo: MockRepo): void {
    const files = new Map(listFiles(repo.directory).map((file) => [file.path, file]));
    const commit = createHash('sha1').update(`commit ${repo.repoId}`).digest('hex');
    this.repos.set(repo.repoId, { ...repo, commit, files });
  }

  commitOf(repoId: string): string {
    return this.served(repoId).commit;
  }

  /** The listing entry of a file, as the client will see it. */
  fileOf(repoId: string, path: string): RepoFileEntry {
    const file = this.served(repoId).files.get(path);
    if (!file) throw new Error(`${repoId} has no ${path}`);
    return file;
  }

  /** The next download of `path` (not the one-byte size probe) stops after `bytes` bytes, with a reset connection. */
  cutNextDownload(path: string, bytes: number): void {
    this.cuts.set(path, bytes);
  }

  /** Downloads of a file's content, the size probes (`bytes=0-0`) left out. */
  downloadsOf(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.url.includes('/resolve/') && request.url.endsWith(`/${path}`) && request.range !== 'bytes=0-0');
  }

  async listen(): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private served(repoId: string): ServedRepo {
    const repo = this.repos.get(repoId);
    if (!repo) throw new Error(`no mock repo ${repoId}`);
    return repo;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://mock');
    this.requests.push({ method: request.method ?? 'GET', url: url.pathname, range: request.headers.range, authorization: request.headers.authorization });
    const route =
      url.pathname.match(/^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree|paths-info)\/([^/]+)/) ??
      url.pathname.match(/^\/([^/]+\/[^/]+)\/(resolve)\/([^/]+)\/(.+)$/);
    const repo = route ? this.repos.get(decodeURIComponent(route[1])) : undefined;
    if (!route || !repo) return json(response, 404, { error: 'Repository not found' }, { 'X-Error-Code': 'RepoNotFound' });
    if (repo.token !== undefined && request.headers.authorization !== `Bearer ${repo.token}`) {
      return json(response, 401, { error: 'Invalid credentials in Authorization header' });
    }
    const revision = decodeURIComponent(route[3]);
    if (revision !== 'main' && revision !== repo.commit)
      return json(response, 404, { error: `Invalid rev id: ${revision}` }, { 'X-Error-Code': 'RevisionNotFound' });
    if (route[2] === 'revision') return json(response, 200, modelInfo(repo));
    if (route[2] === 'tree') return json(response, 200, [...repo.files.values()].map(listing));
    if (route[2] === 'paths-info') return void this.sendPathsInfo(request, response, repo).catch(() => json(response, 400, { error: 'Invalid JSON body' }));
    const file = repo.files.get(decodeURIComponent(route[4]));
    if (!file) return json(response, 404, { error: 'Entry not found' }, { 'X-Error-Code': 'EntryNotFound' });
    this.sendFile(request, response, repo, file);
  }

  private async sendPathsInfo(request: IncomingMessage, response: ServerResponse, repo: ServedRepo): Promise<void> {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const { paths } = JSON.parse(body) as { paths: string[] };
    const found = paths.flatMap((path) => repo.files.get(path) ?? []);
    json(
      response,
      200,
      found.map((file) => ({ ...listing(file), lastCommit: { id: repo.commit, title: 'Upload', date: '2026-01-01T00:00:00.000Z' } })),
    );
  }

  private sendFile(request: IncomingMessage, response: ServerResponse, repo: ServedRepo, file: RepoFileEntry): void {
    const range = parseRange(request.headers.range, file.size);
    const headers = {
      ETag: `"${file.lfs?.oid ?? file.oid}"`,
      'X-Repo-Commit': repo.commit,
      'Accept-Ranges': 'bytes',
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(range.end - range.start + 1),
      ...(range.partial && { 'Content-Range': `bytes ${range.start}-${range.end}/${file.size}` }),
    };
    response.writeHead(range.partial ? 206 : 200, headers);
    const cut = request.headers.range === 'bytes=0-0' ? undefined : this.cuts.get(file.path);
    if (cut === undefined) {
      createReadStream(file.absolutePath, { start: range.start, end: range.end }).pipe(response);
      return;
    }
    this.cuts.delete(file.path);
    // Send the first bytes, then drop the connection as a failing network would.
    const stream = createReadStream(file.absolutePath, { start: range.start, end: range.start + cut - 1 });
    stream.pipe(response, { end: false });
    stream.on('end', () => setTimeout(() => request.socket.destroy(), 50));
  }
}

function modelInfo(repo: ServedRepo): Record<string, unknown> {
  return {
    _id: repo.commit.slice(0, 24),
    id: repo.repoId,
    sha: repo.commit,
    private: repo.token !== undefined,
    gated: false,
    downloads: 0,
    likes: 0,
    lastModified: '2026-01-01T00:00:00.000Z',
    pipeline_tag: 'text-generation',
  };
}

/** A file as the Hub's tree and paths-info listings describe it. */
function listing({ path, size, oid, lfs }: RepoFileEntry): Record<string, unknown> {
  return { type: 'file', path, size, oid, ...(lfs && { lfs }) };
}

/** Every file under a directory, with the object ids the Hub would list for it. */
function listFiles(root: string): RepoFileEntry[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const absolutePath = join(entry.parentPath, entry.name);
      const path = relative(root, absolutePath).split('\\').join('/');
      const content = readFileSync(absolutePath);
      const size = statSync(absolutePath).size;
      if (size < LFS_THRESHOLD) return { path, absolutePath, size, oid: gitBlobId(content) };
      const sha256 = createHash('sha256').update(content).digest('hex');
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
      return { path, absolutePath, size, oid: gitBlobId(pointer), lfs: { oid: sha256, size, pointerSize: pointer.length } };
    });
}

function gitBlobId(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function parseRange(header: string | undefined, size: number): { start: number; end: number; partial: boolean } {
  const match = header?.match(/^bytes=(\d+)-(\d*)$/);
  if (!match) return { start: 0, end: size - 1, partial: false };
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  return { start, end, partial: true };
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), ...headers });
  response.end(text);
}
