import { createHash, timingSafeEqual } from 'node:crypto';
import { BlocklistMatcher } from './blocklist-matcher';
import { ANONYMOUS_TENANT_ID, OTHER_TENANT_LABEL, STRICT_POLICY, Tenant, TenantPolicy } from './tenant';
import { PolicyEntry, TenantSettingsEntry, TenantsFile } from './tenants-file';

interface KeyDigest {
  digest: Buffer;
  tenant: Tenant;
}

/**
 * Every configured tenant, found by API key. Keys are known only as SHA-256 digests; a presented key is
 * hashed and compared with every stored digest in constant time, without stopping at a match, so the
 * time taken says nothing about which digest (or whether any) matched.
 */
export class TenantDirectory {
  readonly anonymous: Tenant;
  private readonly digests: KeyDigest[];
  readonly tenants: readonly Tenant[];

  /**
   * @param maxTenantLabels tenants (in file order) whose id becomes their metric label; the rest share
   *   `other`, so the series count stays bounded whatever the file holds.
   */
  constructor(file: TenantsFile, maxTenantLabels: number) {
    this.tenants = file.tenants.map((entry, index) => ({
      ...settingsOf(entry),
      id: entry.id,
      name: entry.name,
      enabled: entry.enabled ?? true,
      admin: entry.admin ?? false,
      metricLabel: index < maxTenantLabels ? entry.id : OTHER_TENANT_LABEL,
    }));
    this.digests = file.tenants.flatMap((entry, index) =>
      entry.keys.map((hash) => ({ digest: Buffer.from(hash.slice('sha256:'.length), 'hex'), tenant: this.tenants[index] })),
    );
    this.anonymous = {
      ...settingsOf(file.anonymous ?? {}),
      id: ANONYMOUS_TENANT_ID,
      name: 'Anonymous',
      enabled: true,
      admin: false,
      metricLabel: ANONYMOUS_TENANT_ID,
    };
  }

  /** Only the anonymous caller, with the strict policy: the service without a tenants file. */
  static empty(): TenantDirectory {
    return new TenantDirectory({ tenants: [] }, 0);
  }

  /** False without tenants (no tenants file, or one listing none): then no presented key can be valid. */
  get hasKeys(): boolean {
    return this.digests.length > 0;
  }

  /** The tenant owning this key, or undefined for an unknown key. */
  findByKey(key: string): Tenant | undefined {
    const presented = createHash('sha256').update(key, 'utf8').digest();
    let found: Tenant | undefined;
    for (const { digest, tenant } of this.digests) {
      if (timingSafeEqual(presented, digest) && found === undefined) found = tenant;
    }
    return found;
  }

  /** Every metric label value a request can carry: bounded by the label cap plus `anonymous` and `other`. */
  get metricLabels(): string[] {
    return [...new Set([ANONYMOUS_TENANT_ID, ...this.tenants.map((tenant) => tenant.metricLabel)])];
  }
}

function settingsOf(entry: TenantSettingsEntry): Pick<Tenant, 'policy' | 'rateLimit' | 'maxBatchSize' | 'blocklist'> {
  return {
    policy: policyOf(entry.policy),
    rateLimit: entry.rateLimit && { requestsPerSecond: entry.rateLimit.requestsPerSecond, burst: entry.rateLimit.burst },
    maxBatchSize: entry.maxBatchSize,
    blocklist: entry.blocklist && { matcher: new BlocklistMatcher(entry.blocklist.terms), shortCircuit: entry.blocklist.shortCircuit ?? true },
  };
}

function policyOf(entry: PolicyEntry | undefined): TenantPolicy {
  if (!entry) return STRICT_POLICY;
  return {
    controversial: entry.controversial ?? STRICT_POLICY.controversial,
    unsafeThreshold: entry.unsafeThreshold,
    categoryActions: { ...(entry.categories as TenantPolicy['categoryActions'] | undefined) },
    defaultAction: entry.defaultAction ?? STRICT_POLICY.defaultAction,
  };
}
