import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Transform, TransformFnParams } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { DEFAULT_HUB_ENDPOINT, HubSettings } from '../model-hub/hub-settings';
import { EnvSource, InvalidConfigError, messagesOf, readConfig } from './read-config';
import { TextVariable } from './variable-decorators';

/**
 * The Hugging Face Hub's variables, read as `huggingface_hub` reads them, for `qwen3guard pull`. A class
 * beside AppConfig rather than in it: the service never reaches the Hub (it finds models in the cache,
 * through AppConfig's HF_HUB_CACHE), so it neither holds a Hub token nor answers for a Hub variable.
 */
export class HubConfig {
  /** The cache root holding `models--owner--name/` folders; filled by {@link hubCacheDir}'s precedence when unset. */
  @TextVariable()
  readonly HF_HUB_CACHE!: string;

  /** The Hub, or a mirror of it. */
  @TextVariable()
  readonly HF_ENDPOINT: string = DEFAULT_HUB_ENDPOINT;

  /** An access token for private and gated repos; unset: the one `huggingface-cli login` saved at HF_TOKEN_PATH. */
  @IsOptional()
  @TextVariable()
  readonly HF_TOKEN?: string;

  /** Where `huggingface-cli login` saves its token; filled from HF_HOME when unset. */
  @TextVariable()
  readonly HF_TOKEN_PATH!: string;

  /** Never touch the network: only what the cache already holds is used. */
  @IsBoolean()
  @Transform(toHubFlag)
  readonly HF_HUB_OFFLINE: boolean = false;
}

/** How to reach the Hub and where its files are cached, from the environment; throws InvalidConfigError when it is wrong. */
export function hubSettingsFrom(env: EnvSource = process.env): HubSettings {
  const { config, errors } = readConfig(HubConfig, env, { HF_HUB_CACHE: hubCacheDir(env), HF_TOKEN_PATH: join(hfHome(env), 'token') });
  if (errors.length > 0) throw new InvalidConfigError(errors.flatMap(messagesOf));
  return {
    cacheDir: config.HF_HUB_CACHE,
    endpoint: config.HF_ENDPOINT.replace(/\/+$/, ''),
    token: config.HF_TOKEN ?? storedToken(config.HF_TOKEN_PATH),
    offline: config.HF_HUB_OFFLINE,
  };
}

/**
 * The cache root, with huggingface_hub's precedence: HF_HUB_CACHE, then the older HUGGINGFACE_HUB_CACHE,
 * then `$HF_HOME/hub`, where HF_HOME defaults to `${XDG_CACHE_HOME:-~/.cache}/huggingface`. The same
 * folder as Python's, so either side finds what the other downloaded.
 */
export function hubCacheDir(env: EnvSource): string {
  return value(env, 'HF_HUB_CACHE') ?? value(env, 'HUGGINGFACE_HUB_CACHE') ?? join(hfHome(env), 'hub');
}

function hfHome(env: EnvSource): string {
  return value(env, 'HF_HOME') ?? join(value(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
}

function storedToken(path: string): string | undefined {
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').trim() || undefined;
}

/** huggingface_hub's reading of a flag: 1, ON, YES or TRUE in any case is true, anything else false. */
function toHubFlag({ value: flag }: TransformFnParams): unknown {
  if (typeof flag !== 'string') return flag;
  return ['1', 'ON', 'YES', 'TRUE'].includes(flag.trim().toUpperCase());
}

/** A variable's trimmed value; empty counts as unset, as in the service's own configuration. */
function value(env: EnvSource, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}
