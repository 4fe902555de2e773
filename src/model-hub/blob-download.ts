import { createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { downloadFile } from '@huggingface/hub';
import { matchesChecksum } from './blob-checksum';
import { HubSettings } from './hub-settings';
import { RepoFile } from './model-files';
import { ModelHubError } from './model-hub-error';

export interface BlobRequest {
  repoId: string;
  commit: string;
  file: RepoFile;
  /** Where the finished blob goes; it is written as `<blobPath>.incomplete` until verified. */
  blobPath: string;
}

/** The file's content size (the tree reports LFS files by their content too, but the LFS record is explicit). */
export function contentSize(file: RepoFile): number {
  return file.lfs?.size ?? file.size;
}

/** The name huggingface_hub stores a file's content under in `blobs/`: its LFS sha256, else its git sha1. */
export function etagOf(file: RepoFile): string {
  return file.lfs?.oid ?? file.oid;
}

/** Hears of the bytes an earlier attempt left (once, before anything is requested), then of every chunk. */
export interface BlobProgress {
  resumed(bytes: number): void;
  received(bytes: number): void;
}

/**
 * Downloads one file into the cache, resuming where an earlier attempt stopped: the bytes already in
 * `<blob>.incomplete` stay, and only the rest is requested (an HTTP Range request, through the Hub
 * library's blob slicing). The file is checked against its listed size and checksum before it becomes
 * the blob; a file that fails the check is removed so that the next attempt starts clean.
 */
export async function downloadBlob(hub: HubSettings, request: BlobRequest, progress: BlobProgress): Promise<void> {
  const incomplete = `${request.blobPath}.incomplete`;
  const expected = contentSize(request.file);
  let kept = sizeOf(incomplete);
  if (kept > expected) {
    rmSync(incomplete);
    kept = 0;
  }
  progress.resumed(kept);
  if (kept < expected) await appendRest(hub, request, incomplete, kept, progress);
  await verify(incomplete, request.file, expected);
  renameSync(incomplete, request.blobPath);
}

async function appendRest(hub: HubSettings, { repoId, commit, file }: BlobRequest, incomplete: string, offset: number, progress: BlobProgress): Promise<void> {
  const blob = await downloadFile({ repo: { type: 'model', name: repoId }, path: file.path, revision: commit, hubUrl: hub.endpoint, accessToken: hub.token });
  if (!blob) throw new ModelHubError(`${file.path} is listed in ${repoId} at ${commit} but cannot be downloaded (404)`);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      progress.received(chunk.length);
      done(null, chunk);
    },
  });
  try {
    const rest = Readable.fromWeb(blob.slice(offset).stream() as ReadableStream<Uint8Array>);
    await pipeline(rest, counter, createWriteStream(incomplete, { flags: 'a' }));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ModelHubError(
      `the download of ${file.path} stopped at ${sizeOf(incomplete)} of ${contentSize(file)} bytes (${reason}); ` + 'run the same command again to resume it',
      { cause: error },
    );
  }
}

async function verify(incomplete: string, file: RepoFile, expected: number): Promise<void> {
  const size = sizeOf(incomplete);
  if (size === expected && (await matchesChecksum(incomplete, file))) return;
  rmSync(incomplete, { force: true });
  const what = size === expected ? 'its checksum does not match the listing' : `it has ${size} bytes where ${expected} were listed`;
  throw new ModelHubError(`the download of ${file.path} is corrupt (${what}); it was removed, run the same command again`);
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
