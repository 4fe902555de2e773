import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { apiKeyHash, generateApiKey } from '../../src/api-keys/api-key';

export interface TestTenant {
  id: string;
  /** The plain key a client sends; only its hash is written to the file. */
  key: string;
  /** Everything else of the tenant's entry (policy, limits, blocklist...). */
  settings?: Record<string, unknown>;
}

/** A tenant with a fresh random key. */
export function testTenant(id: string, settings: Record<string, unknown> = {}): TestTenant {
  return { id, key: generateApiKey(), settings };
}

/** Writes a tenants file holding the tenants (keys as hashes) into `directory`; returns its path. */
export function writeTenantsFile(directory: string, tenants: readonly TestTenant[], extra: Record<string, unknown> = {}): string {
  const path = join(directory, 'tenants.yaml');
  const entries = tenants.map(({ id, key, settings }) => ({ id, name: `Tenant ${id}`, keys: [apiKeyHash(key)], ...settings }));
  writeFileSync(path, stringify({ ...extra, tenants: entries }));
  return path;
}

export const bearer = (tenant: TestTenant): Record<string, string> => ({ authorization: `Bearer ${tenant.key}` });
