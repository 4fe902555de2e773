import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidationError } from 'class-validator';
import { HubCache } from '../model-hub/hub-cache';
import { hubCacheDir } from '../model-hub/hub-settings';
import { isRepoId } from '../model-hub/repo-id';
import { AppConfig } from './app-config';

/** Environment-shaped input: process.env, or process.env with test overrides laid over it. */
export type EnvSource = Readonly<Record<string, string | undefined>>;

/** Start-up stops on this; its message names every variable that needs fixing. */
export class InvalidConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration: ${problems.join('; ')}`);
    this.name = 'InvalidConfigError';
  }
}

/** Reads, converts and validates the configuration; throws InvalidConfigError when anything is wrong. */
export function loadAppConfig(env: EnvSource = process.env): AppConfig {
  const config = plainToInstance(AppConfig, configVariables(env));
  const problems = [...validateSync(config, { stopAtFirstError: true }).flatMap(messagesOf), ...crossFieldProblems(config)];
  if (problems.length > 0) throw new InvalidConfigError(problems);
  return config;
}

/** Only the variables AppConfig declares; an empty value counts as unset, as shells and compose files produce them. */
function configVariables(env: EnvSource): Record<string, string> {
  const picked: Record<string, string> = { QWEN3GUARD_CACHE_DIR: defaultCacheDir(env), HF_HUB_CACHE: hubCacheDir(env), ...productionDefaults(env) };
  for (const name of declaredVariables()) {
    const value = env[name];
    if (value !== undefined && value.trim() !== '') picked[name] = value;
  }
  return picked;
}

/**
 * In production the API docs and the playground are off unless asked for: neither is needed to serve, and
 * each is one more surface on a public port. Explicit values still win (they are read after this).
 */
function productionDefaults(env: EnvSource): Record<string, string> {
  return env.NODE_ENV?.trim() === 'production' ? { DOCS_ENABLED: 'false', PLAYGROUND_ENABLED: 'false' } : {};
}

function declaredVariables(): Set<string> {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(AppConfig, '', true, false);
  return new Set(metadata.map((entry) => entry.propertyName));
}

function defaultCacheDir(env: EnvSource): string {
  const cacheHome = env.XDG_CACHE_HOME?.trim() || join(homedir(), '.cache');
  return join(cacheHome, 'qwen3guard-gen-web');
}

function messagesOf(error: ValidationError): string[] {
  return Object.values(error.constraints ?? {});
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
