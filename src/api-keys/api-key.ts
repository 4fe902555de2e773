import { createHash, randomBytes } from 'node:crypto';

/** Marks a string as this service's key, so that secret scanners and people recognise a leaked one. */
const KEY_PREFIX = 'qg_';

/** A new API key: the prefix and 256 random bits, base64url. */
export function generateApiKey(): string {
  return KEY_PREFIX + randomBytes(32).toString('base64url');
}

/**
 * What the service stores instead of the key: `sha256:<hex>`. A key has 256 bits of entropy, so a plain
 * digest cannot be reversed by guessing, and lookups stay a single hash.
 */
export function apiKeyHash(key: string): string {
  return `sha256:${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
