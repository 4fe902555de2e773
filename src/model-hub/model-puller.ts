import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { downloadFileToCacheDir, listFiles, modelInfo } from '@huggingface/hub';
import { defaultDirectoryDtype, defaultDtype, readModelDirectory, ModelDtype, ProviderPreference } from '../inference';
import { contentSize, downloadBlob, etagOf } from './blob-download';
import { COMMIT_HASH, HubCache } from './hub-cache';
import { HubSettings } from './hub-settings';
import { RepoFile, selectModelFiles } from './model-files';
import { explainHubFailure, ModelHubError } from './model-hub-error';

export interface PullOptions {
  /** A branch, tag or commit; `main` by default. */
  revision?: string;
  /** The ONNX weights to fetch, one file set per dtype. Unset: the one defaultDtype picks for `provider`. */
  dtypes?: readonly ModelDtype[];
  /** The provider the model will be served on, for the default dtype (`cpu` when unset, as the service's). */
  provider?: ProviderPreference;
}

export interface PullResult {
  repoId: string;
  commit: string;
  /** The model directory to serve: `snapshots/<commit>` in the cache. */
  snapshotDir: string;
  /** Files in the snapshot for the dtypes asked for. */
  files: number;
  /** The dtypes pulled: those asked for, or the default chosen. */
  dtypes: ModelDtype[];
  /** Bytes received this time (0 when the cache already had everything). */
  downloadedBytes: number;
  /** True when HF_HUB_OFFLINE kept the network out and the cached snapshot was used as it is. */
  offline: boolean;
}

/** Hears how a pull advances; the CLI draws a progress bar from it. */
export interface PullProgress {
  /** The files still to download and their total size (bytes kept from an interrupted attempt included). */
  begin(totalBytes: number, files: number): void;
  file(path: string): void;
  advance(bytes: number): void;
  end(): void;
}

const NO_PROGRESS: PullProgress = { begin: () => undefined, file: () => undefined, advance: () => undefined, end: () => undefined };

/**
 * Fetches a Qwen3Guard-Gen ONNX export from the Hugging Face Hub into the shared cache (see HubCache):
 * the commit the revision points to, the files the asked dtypes need, and the revision's ref written last,
 * so that the service only ever finds a ref to a complete snapshot. Blobs already in the cache (from an
 * earlier pull, or from Python's huggingface_hub) are reused; an interrupted download resumes.
 */
export class ModelPuller {
  constructor(
    private readonly hub: HubSettings,
    private readonly cache: HubCache = new HubCache(hub.cacheDir),
    private readonly progress: PullProgress = NO_PROGRESS,
  ) {}

  async pull(repoId: string, options: PullOptions): Promise<PullResult> {
    const revision = options.revision ?? 'main';
    const provider = options.provider ?? 'cpu';
    if (this.hub.offline) return this.fromCache(repoId, revision, options.dtypes, provider);
    try {
      const commit = await this.commitOf(repoId, revision);
      const listed = await this.listRepo(repoId, commit);
      const paths = new Set(listed.map((file) => file.path));
      const dtypes = options.dtypes ? [...options.dtypes] : [defaultDtype(provider, (path) => paths.has(path)).dtype];
      const files = selectModelFiles(listed, dtypes);
      const downloadedBytes = await this.downloadMissing(repoId, commit, files);
      await this.linkSnapshot(repoId, commit, files);
      if (revision !== commit) this.cache.writeRef(repoId, revision, commit);
      return { repoId, commit, snapshotDir: this.cache.snapshotDir(repoId, commit), files: files.length, dtypes, downloadedBytes, offline: false };
    } catch (error) {
      throw explainHubFailure(error, { repoId, revision, endpoint: this.hub.endpoint, withToken: this.hub.token !== undefined });
    }
  }

  /** With HF_HUB_OFFLINE, a pull succeeds only when the cache already holds a snapshot the engine can load. */
  private fromCache(repoId: string, revision: string, asked: readonly ModelDtype[] | undefined, provider: ProviderPreference): PullResult {
    const snapshotDir = this.cache.findSnapshot(repoId, revision);
    if (snapshotDir === undefined) {
      throw new ModelHubError(
        `HF_HUB_OFFLINE is set and ${repoId} (${revision}) is not in the Hugging Face cache at ${this.cache.root}: ` + 'unset HF_HUB_OFFLINE to download it',
      );
    }
    const dtypes = asked ? [...asked] : [defaultDirectoryDtype(snapshotDir, provider).dtype];
    for (const dtype of dtypes) {
      try {
        readModelDirectory(snapshotDir, dtype);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new ModelHubError(`HF_HUB_OFFLINE is set and the cached ${repoId} is incomplete for ${dtype}: ${reason}`, { cause: error });
      }
    }
    return { repoId, commit: basename(snapshotDir), snapshotDir, files: 0, dtypes, downloadedBytes: 0, offline: true };
  }

  private async commitOf(repoId: string, revision: string): Promise<string> {
    const info = await modelInfo({ name: repoId, revision, additionalFields: ['sha'], hubUrl: this.hub.endpoint, accessToken: this.hub.token });
    // The commit names a folder: anything but a commit hash is refused.
    if (!info.sha || !COMMIT_HASH.test(info.sha)) throw new ModelHubError(`the Hub at ${this.hub.endpoint} did not say which commit ${repoId}@${revision} is`);
    return info.sha;
  }

  private async listRepo(repoId: string, commit: string): Promise<RepoFile[]> {
    const files: RepoFile[] = [];
    const entries = listFiles({
      repo: { type: 'model', name: repoId },
      revision: commit,
      recursive: true,
      hubUrl: this.hub.endpoint,
      accessToken: this.hub.token,
    });
    for await (const entry of entries) {
      if (entry.type !== 'file') continue;
      if (entry.oid === undefined) throw new ModelHubError(`the Hub listed ${entry.path} of ${repoId} without its object id`);
      files.push({ path: entry.path, size: entry.size, oid: entry.oid, lfs: entry.lfs });
    }
    return files;
  }

  /**
   * `snapshots/<commit>/<path>` for each file, made by the Hub library's downloadFileToCacheDir: it checks the
   * path, finds the blob already in the cache and links it (relatively, or copies it where links are not
   * allowed). Its own download has no resume, size or checksum check, so it is refused here: the blobs come
   * from downloadMissing.
   */
  private async linkSnapshot(repoId: string, commit: string, files: readonly RepoFile[]): Promise<void> {
    const linkOnly: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      if (url.includes('/resolve/')) throw new ModelHubError(`the Hub library was about to download ${url} again instead of linking the verified blob`);
      return fetch(input, init);
    };
    for (const file of files) {
      await downloadFileToCacheDir({
        repo: { type: 'model', name: repoId },
        path: file.path,
        revision: commit,
        cacheDir: this.cache.root,
        hubUrl: this.hub.endpoint,
        accessToken: this.hub.token,
        fetch: linkOnly,
      });
    }
  }

  /** Downloads the files whose blob the cache lacks, one after another; returns the bytes received. */
  private async downloadMissing(repoId: string, commit: string, files: readonly RepoFile[]): Promise<number> {
    const missing = files.filter((file) => !existsSync(this.cache.blobPath(repoId, etagOf(file))));
    let received = 0;
    this.progress.begin(
      missing.reduce((total, file) => total + contentSize(file), 0),
      missing.length,
    );
    try {
      for (const file of missing) {
        const blobPath = this.cache.blobPath(repoId, etagOf(file));
        mkdirSync(dirname(blobPath), { recursive: true });
        this.progress.file(file.path);
        await downloadBlob(
          this.hub,
          { repoId, commit, file, blobPath },
          {
            resumed: (bytes) => this.progress.advance(bytes),
            received: (bytes) => {
              received += bytes;
              this.progress.advance(bytes);
            },
          },
        );
      }
    } finally {
      this.progress.end();
    }
    return received;
  }
}
