import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HubCache } from '../model-hub/hub-cache';
import { isRepoId } from '../model-hub/repo-id';
import { AppConfig } from './app-config';
import { hubCacheDir } from './hub-config';
import { EnvSource, InvalidConfigError, messagesOf, readConfig } from './read-config';

export { EnvSource, InvalidConfigError } from './read-config';

/** Reads, converts and validates the configuration; throws InvalidConfigError when anything is wrong. */
export function loadAppConfig(env: EnvSource = process.env): AppConfig {
  const { config, errors } = readConfig(AppConfig, env, computedDefaults(env));
  const problems = [...errors.flatMap(messagesOf), ...crossFieldProblems(config)];
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return config;
}

/**
 * Some of the service's variables, converted and validated as the service reads them, for a command that
 * needs only those (`qwen3guard pull`): the other variables, and the checks across them, are not its business.
 */
export function loadAppConfigVariables<K extends keyof AppConfig>(names: readonly K[], env: EnvSource = process.env): Pick<AppConfig, K> {
  const { config, errors } = readConfig(AppConfig, env, computedDefaults(env));
  const problems = errors.filter((error) => (names as readonly string[]).includes(error.property)).flatMap(messagesOf);
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return config;
}

/** Defaults that depend on other variables: read before the declared variables, so explicit values win. */
function computedDefaults(env: EnvSource): Record<string, string> {
  return { QWEN3GUARD_CACHE_DIR: defaultCacheDir(env), HF_HUB_CACHE: hubCacheDir(env), ...productionDefaults(env) };
}

/**
 * In production the API docs and the playground are off unless asked for: neither is needed to serve, and
 * each is one more surface on a public port. Explicit values still win (they are read after this).
 */
function productionDefaults(env: EnvSource): Record<string, string> {
  return env.NODE_ENV?.trim() === 'production' ? { DOCS_ENABLED: 'false', PLAYGROUND_ENABLED: 'false' } : {};
}

function defaultCacheDir(env: EnvSource): string {
  const cacheHome = env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache');
  return join(cacheHome, 'qwen3guard-gen-web');
}

function crossFieldProblems(config: AppConfig): string[] {
  const problems: string[] = [];
  if (config.NODE_ENV === 'production' && config.usesDemoModel) {
    problems.push('QWEN3GUARD_MODEL or QWEN3GUARD_MODEL_DIR must be set when NODE_ENV=production: the demo model is refused in production');
  }
  if (config.QWEN3GUARD_MODEL_DIR !== undefined && !isDirectory(config.QWEN3GUARD_MODEL_DIR)) {
    problems.push(`QWEN3GUARD_MODEL_DIR must name an existing directory (${config.QWEN3GUARD_MODEL_DIR} is not one)`);
  }
  problems.push(...hubModelProblems(config));
  if (config.METRICS_MODE === 'separate' && config.PORT !== 0 && config.PORT === config.METRICS_PORT) {
    problems.push(
      `PORT and METRICS_PORT are both ${config.PORT}: the metrics listener needs a port of its own; ` +
        'set METRICS_PORT to another port, or METRICS_MODE=same-port to serve /metrics on the API port',
    );
  }
  return problems;
}

/** QWEN3GUARD_MODEL must be a repo id already in the Hugging Face cache: the service never downloads at start-up. */
function hubModelProblems({ QWEN3GUARD_MODEL: repoId, QWEN3GUARD_MODEL_DIR, HF_HUB_CACHE }: AppConfig): string[] {
  if (repoId === undefined) return [];
  if (QWEN3GUARD_MODEL_DIR !== undefined) return ['set QWEN3GUARD_MODEL (a Hugging Face repo id) or QWEN3GUARD_MODEL_DIR (a directory), not both'];
  if (!isRepoId(repoId)) return [`QWEN3GUARD_MODEL must be a Hugging Face repo id, owner/name (${repoId} is not one)`];
  if (new HubCache(HF_HUB_CACHE).findSnapshot(repoId) !== undefined) return [];
  return [`QWEN3GUARD_MODEL=${repoId} is not in the Hugging Face cache at ${HF_HUB_CACHE}: run \`qwen3guard pull ${repoId}\` first`];
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
