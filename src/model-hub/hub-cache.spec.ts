import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubCache, safeRelativePath } from './hub-cache';

const COMMIT = '0123456789abcdef0123456789abcdef01234567';

describe('HubCache', () => {
  let root: string;
  let cache: HubCache;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'qwen3guard-hub-cache-'));
    cache = new HubCache(root);
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('names folders as huggingface_hub does', () => {
    expect(cache.repoFolder('Qwen/Qwen3Guard-Gen-0.6B')).toBe(join(root, 'models--Qwen--Qwen3Guard-Gen-0.6B'));
    expect(cache.blobPath('a/b', COMMIT)).toBe(join(root, 'models--a--b', 'blobs', COMMIT));
    expect(cache.snapshotDir('a/b', COMMIT)).toBe(join(root, 'models--a--b', 'snapshots', COMMIT));
  });

  it('finds a snapshot written by Python (refs/main, relative links into blobs/)', () => {
    // The layout huggingface_hub.snapshot_download leaves, built by hand.
    const repo = join(root, 'models--Qwen--Guard');
    mkdirSync(join(repo, 'blobs'), { recursive: true });
    mkdirSync(join(repo, 'refs'));
    mkdirSync(join(repo, 'snapshots', COMMIT, 'onnx'), { recursive: true });
    writeFileSync(join(repo, 'blobs', 'abc'), '{}');
    writeFileSync(join(repo, 'refs', 'main'), COMMIT);
    symlinkSync('../../../blobs/abc', join(repo, 'snapshots', COMMIT, 'onnx', 'config.json'));

    const snapshot = cache.findSnapshot('Qwen/Guard');
    expect(snapshot).toBe(join(repo, 'snapshots', COMMIT));
    expect(readFileSync(join(snapshot!, 'onnx', 'config.json'), 'utf8')).toBe('{}');
    expect(cache.findSnapshot('Qwen/Guard', COMMIT)).toBe(snapshot);
  });

  it('finds nothing without the ref, or when the ref names a snapshot that is gone', () => {
    expect(cache.findSnapshot('Qwen/Guard')).toBeUndefined();
    cache.writeRef('Qwen/Guard', 'main', COMMIT);
    expect(cache.findSnapshot('Qwen/Guard')).toBeUndefined();
    expect(cache.findSnapshot('Qwen/Guard', 'v1')).toBeUndefined();
  });

  it('refuses object ids that are not content hashes', () => {
    expect(() => cache.blobPath('a/b', '../../etc')).toThrow(/not a sha1 or sha256/);
    expect(cache.blobPath('a/b', 'a'.repeat(64))).toBe(join(root, 'models--a--b', 'blobs', 'a'.repeat(64)));
  });

  it('refuses repository paths that would leave the cache', () => {
    for (const path of ['../x', 'onnx/../../x', '/etc/passwd', 'a//b', '']) expect(() => safeRelativePath(path)).toThrow(/would leave the cache folder/);
    expect(safeRelativePath('onnx/model.onnx')).toBe('onnx/model.onnx');
  });
});
