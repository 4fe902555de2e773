import { Command, Option } from 'commander';
import { loadAppConfigVariables } from '../../config/load-app-config';
import { MODEL_DTYPES, ModelDtype } from '../../inference';
import type { PullProgress, PullResult } from '../../model-hub/model-puller';
import { isRepoId } from '../../model-hub/repo-id';
import { createProgressBar, megabytes } from '../progress-bar';

interface PullOptions {
  revision: string;
  /** Unset: QWEN3GUARD_DTYPE, read when the command runs (so that no other command fails on it), else the default. */
  dtype?: ModelDtype[];
}

/** `qwen3guard pull`: a Qwen3Guard-Gen ONNX export from the Hugging Face Hub into the Hugging Face cache. */
export function addPullCommand(program: Command): void {
  program
    .command('pull')
    .description('download a Qwen3Guard-Gen ONNX export from the Hugging Face Hub into the Hugging Face cache')
    .argument('[repo-id]', 'owner/name on the Hub (default: QWEN3GUARD_MODEL)')
    .option('--revision <revision>', 'branch, tag or commit', 'main')
    .addOption(
      new Option(
        '--dtype <dtype...>',
        'the ONNX weights to fetch (besides config and tokenizer files) (default: QWEN3GUARD_DTYPE; unset, int8 where the repository has it and QWEN3GUARD_PROVIDER is cpu, else fp32)',
      ).choices(MODEL_DTYPES),
    )
    .addHelpText(
      'after',
      [
        '',
        'Prints the snapshot directory on stdout; progress goes to stderr. An interrupted download resumes',
        'when the command runs again. Serve the result with QWEN3GUARD_MODEL=<repo-id> qwen3guard serve.',
        '',
        'Environment, as huggingface_hub reads it:',
        '  HF_ENDPOINT     the Hub (default https://huggingface.co), e.g. a mirror',
        '  HF_TOKEN        token for private or gated repos (else the one huggingface-cli login saved)',
        '  HF_HOME         Hugging Face home (default ~/.cache/huggingface); the cache is $HF_HOME/hub',
        '  HF_HUB_CACHE    the cache folder itself',
        '  HF_HUB_OFFLINE  1: no network; succeeds only when the model is already in the cache',
      ].join('\n'),
    )
    .action((repoId: string | undefined, options: PullOptions) => pull(repoId, options));
}

async function pull(argument: string | undefined, options: PullOptions): Promise<void> {
  const config = loadAppConfigVariables(['QWEN3GUARD_MODEL', 'QWEN3GUARD_DTYPE', 'QWEN3GUARD_PROVIDER'], process.env);
  const repoId = argument ?? config.QWEN3GUARD_MODEL;
  if (!repoId) throw new Error('name the model to pull (owner/name), or set QWEN3GUARD_MODEL');
  if (!isRepoId(repoId)) throw new Error(`${repoId} is not a Hugging Face repo id (owner/name)`);
  const asked = options.dtype ?? config.QWEN3GUARD_DTYPE;
  const dtypes = asked === undefined ? undefined : [asked].flat();
  // Loaded here: the Hub client is only needed by this command.
  const { ModelPuller } = await import('../../model-hub/model-puller');
  const { HubCache } = await import('../../model-hub/hub-cache');
  const { hubSettingsFrom } = await import('../../config/hub-config');
  const hub = hubSettingsFrom(process.env);
  const what = dtypes?.join(', ') ?? `default dtype for the ${config.QWEN3GUARD_PROVIDER} provider`;
  process.stderr.write(`pulling ${repoId}@${options.revision} (${what}) from ${hub.endpoint} into ${hub.cacheDir}\n`);
  const result = await new ModelPuller(hub, new HubCache(hub.cacheDir), progressBar()).pull(repoId, {
    revision: options.revision,
    dtypes,
    provider: config.QWEN3GUARD_PROVIDER,
  });
  process.stderr.write(`${summary(result)}\nserve it with: QWEN3GUARD_MODEL=${repoId} qwen3guard serve\n`);
  process.stdout.write(`${result.snapshotDir}\n`);
}

function summary(result: PullResult): string {
  if (result.offline) return `HF_HUB_OFFLINE: using the cached ${result.repoId} at ${result.commit} (${result.dtypes.join(', ')})`;
  const fetched = result.downloadedBytes > 0 ? `${megabytes(result.downloadedBytes)} downloaded` : 'everything was already in the cache';
  return `${result.repoId} at ${result.commit}: ${result.dtypes.join(', ')}, ${result.files} files, ${fetched}`;
}

function progressBar(): PullProgress {
  const bar = createProgressBar('bytes');
  let running = false;
  return {
    begin: (totalBytes, files) => {
      running = files > 0;
      if (running) bar.start(totalBytes, 0, { label: '' });
    },
    file: (path) => bar.update({ label: path }),
    advance: (bytes) => bar.increment(bytes),
    end: () => {
      if (running) bar.stop();
    },
  };
}
