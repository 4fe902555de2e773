/** How to reach the Hub and where its files are cached; read from the environment by src/config/hub-config.ts. */
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
