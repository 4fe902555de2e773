import { createHash, Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { RepoFile } from './model-files';

/**
 * Whether a downloaded file is the one the Hub listed: the sha256 an LFS (or Xet) file is stored under,
 * else the git blob sha1 of a regular file. This is also what catches a resumed download whose server
 * sent the whole file again instead of the missing range.
 */
export async function matchesChecksum(path: string, file: RepoFile): Promise<boolean> {
  if (file.lfs) return (await digest(path, createHash('sha256'))) === file.lfs.oid;
  return (await digest(path, createHash('sha1').update(`blob ${file.size}\0`))) === file.oid;
}

async function digest(path: string, hash: Hash): Promise<string> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
