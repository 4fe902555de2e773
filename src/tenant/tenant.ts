import type { RiskCategory } from '../inference';
import type { BlocklistMatcher } from './blocklist-matcher';

/** The id (and metric label) of requests that present no key, where anonymous access is allowed. */
export const ANONYMOUS_TENANT_ID = 'anonymous';

/** The metric label of tenants beyond the configured label cap. */
export const OTHER_TENANT_LABEL = 'other';

/** What a tenant does with a flagged category: refuse the content, let it through marked, or ignore it. */
export const CATEGORY_ACTIONS = ['block', 'flag', 'allow'] as const;
export type CategoryAction = (typeof CATEGORY_ACTIONS)[number];

/** How the model's `Controversial` verdict counts for a tenant: as unsafe (strict) or as safe (loose). */
export const CONTROVERSIAL_HANDLING = ['unsafe', 'safe'] as const;
export type ControversialHandling = (typeof CONTROVERSIAL_HANDLING)[number];

/** How one tenant turns the model's verdict into a decision. The model's verdict itself never changes. */
export interface TenantPolicy {
  controversial: ControversialHandling;
  /** An Unsafe verdict whose probability is below this counts as Controversial; undefined: never. */
  unsafeThreshold?: number;
  /** Per category; categories not listed take {@link defaultAction}. */
  categoryActions: Partial<Record<RiskCategory, CategoryAction>>;
  defaultAction: CategoryAction;
}

/** Strict, as Qwen3Guard's own evaluation: anything not safe is blocked. */
export const STRICT_POLICY: TenantPolicy = { controversial: 'unsafe', categoryActions: {}, defaultAction: 'block' };

export interface RateLimit {
  requestsPerSecond: number;
  /** Requests a tenant may send at once after being idle. */
  burst: number;
}

export interface TenantBlocklist {
  matcher: BlocklistMatcher;
  /** A hit decides without running the model. */
  shortCircuit: boolean;
}

/** A client application of the service, as configured in the tenants file (or the anonymous caller). */
export interface Tenant {
  id: string;
  name: string;
  enabled: boolean;
  /** Sees every tenant's usage. */
  admin: boolean;
  /** Its `tenant` label value: its id, or `other` beyond the label cap. */
  metricLabel: string;
  policy: TenantPolicy;
  rateLimit?: RateLimit;
  /** Most inputs one request may carry; the service-wide MAX_BATCH_ITEMS still applies. */
  maxBatchSize?: number;
  blocklist?: TenantBlocklist;
}
