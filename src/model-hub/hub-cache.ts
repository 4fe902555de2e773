import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { getRepoFolderName } from '@huggingface/hub';

export const COMMIT_HASH = /^[0-9a-f]{40}$/;
/** Blob names are content hashes: a git sha1 or an LFS sha256. */
const ETAG = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The Hugging Face cache layout, shared with Python's huggingface_hub:
 *
 *   <root>/models--owner--name/
 *     blobs/<etag>                       file contents, named by their LFS sha256 or git blob sha1
 *     snapshots/<commit>/<path>          relative symlinks into blobs/, one tree per commit
 *     refs/<revision>                    the commit a branch or tag pointed to when last fetched
 *
 * Plain file-system work, no network: the puller writes blobs and refs through it (the snapshot links are
 * @huggingface/hub's downloadFileToCacheDir's), and the service finds snapshots through it. The library's
 * own scan (scanCachedRepo) is asynchronous and stats every blob; configuration checks need one ref, now.
 */
export class HubCache {
  constructor(readonly root: string) {}

  repoFolder(repoId: string): string {
    return join(this.root, getRepoFolderName({ type: 'model', name: repoId }));
  }

  blobPath(repoId: string, etag: string): string {
    if (!ETAG.test(etag)) throw new Error(`refusing the object id ${JSON.stringify(etag)}: not a sha1 or sha256`);
    return join(this.repoFolder(repoId), 'blobs', etag);
  }

  snapshotDir(repoId: string, commit: string): string {
    return join(this.repoFolder(repoId), 'snapshots', commit);
  }

  /**
   * The snapshot a revision names, when the cache holds it: a commit hash directly, a branch or tag
   * through its ref. Undefined when it was never fetched.
   */
  findSnapshot(repoId: string, revision = 'main'): string | undefined {
    const commit = COMMIT_HASH.test(revision) ? revision : this.readRef(repoId, revision);
    if (commit === undefined) return undefined;
    const directory = this.snapshotDir(repoId, commit);
    return isDirectory(directory) ? directory : undefined;
  }

  readRef(repoId: string, revision: string): string | undefined {
    const path = this.refPath(repoId, revision);
    return existsSync(path) ? readFileSync(path, 'utf8').trim() : undefined;
  }

  writeRef(repoId: string, revision: string, commit: string): void {
    const path = this.refPath(repoId, revision);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, commit);
  }

  private refPath(repoId: string, revision: string): string {
    return join(this.repoFolder(repoId), 'refs', safeRelativePath(revision));
  }
}

/** A repo-relative path from the Hub, refused when it would lead out of the folder it is joined to. */
export function safeRelativePath(path: string): string {
  if (path === '' || isAbsolute(path) || path.split(/[\\/]/).some((part) => part === '..' || part === '')) {
    throw new Error(`refusing the repository path ${JSON.stringify(path)}: it would leave the cache folder`);
  }
  return path;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
