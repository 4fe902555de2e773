import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Process environment, or a copy of it with overrides (tests, the CLI's options). */
export type HubEnv = Readonly<Record<string, string | undefined>>;

/** How to reach the Hub and where its files are cached, read from the variables `huggingface_hub` reads. */
export interface HubSettings {
  /** The cache root holding `models--owner--name/` folders. */
  cacheDir: string;
  /** The Hub's base URL, without a trailing slash. */
  endpoint: string;
  /** An access token for private and gated repos. */
  token?: string;
  /** Never touch the network: only what the cache already holds is used. */
  offline: boolean;
}

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export function hubSettingsFrom(env: HubEnv): HubSettings {
  return {
    cacheDir: hubCacheDir(env),
    endpoint: (value(env, 'HF_ENDPOINT') ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, ''),
    token: value(env, 'HF_TOKEN') ?? storedToken(env),
    offline: isTrue(value(env, 'HF_HUB_OFFLINE')),
  };
}

/**
 * The cache root, with huggingface_hub's precedence: HF_HUB_CACHE, then the older HUGGINGFACE_HUB_CACHE,
 * then `$HF_HOME/hub`, where HF_HOME defaults to `${XDG_CACHE_HOME:-~/.cache}/huggingface`. The same
 * folder as Python's, so either side finds what the other downloaded.
 */
export function hubCacheDir(env: HubEnv): string {
  return value(env, 'HF_HUB_CACHE') ?? value(env, 'HUGGINGFACE_HUB_CACHE') ?? join(hfHome(env), 'hub');
}

function hfHome(env: HubEnv): string {
  return value(env, 'HF_HOME') ?? join(value(env, 'XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
}

/** The token `huggingface-cli login` saved (HF_TOKEN_PATH, default `$HF_HOME/token`), if any. */
function storedToken(env: HubEnv): string | undefined {
  const path = value(env, 'HF_TOKEN_PATH') ?? join(hfHome(env), 'token');
  if (!existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').trim() || undefined;
}

/** huggingface_hub's reading of a flag: 1, ON, YES or TRUE in any case. */
function isTrue(flag: string | undefined): boolean {
  return flag !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(flag.toUpperCase());
}

/** A variable's trimmed value; empty counts as unset, as in the service's own configuration. */
function value(env: HubEnv, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}
