import type { Verdict } from '../inference';
import { CategoryAction, TenantPolicy } from './tenant';

/** What the service tells the client to do, by the tenant's policy; the model's verdict is reported beside it. */
export interface Decision {
  action: CategoryAction;
  /** Anything but `allow`: the OpenAI-compatible `flagged`. */
  flagged: boolean;
  /** `blocklist`: a term of the tenant's blocklist matched (and, when it short-circuits, the model did not run). */
  source: 'model' | 'blocklist';
}

const SEVERITY: Readonly<Record<CategoryAction, number>> = { allow: 0, flag: 1, block: 2 };

export const BLOCKLIST_DECISION: Decision = { action: 'block', flagged: true, source: 'blocklist' };

/**
 * The tenant's decision on a verdict. An Unsafe verdict below the tenant's probability threshold counts as
 * Controversial; Controversial then counts as the tenant says (unsafe or safe). A verdict that counts as
 * unsafe takes the most severe action among its categories (block > flag > allow), or the default action
 * when the model names none.
 */
export function decide(verdict: Verdict, policy: TenantPolicy): Decision {
  const action = effectivelyUnsafe(verdict, policy) ? mostSevere(verdict, policy) : 'allow';
  return { action, flagged: action !== 'allow', source: 'model' };
}

function effectivelyUnsafe({ safetyLevel, probabilities }: Verdict, policy: TenantPolicy): boolean {
  const belowThreshold = policy.unsafeThreshold !== undefined && probabilities.unsafe < policy.unsafeThreshold;
  const level = safetyLevel === 'unsafe' && belowThreshold ? 'controversial' : safetyLevel;
  return level === 'unsafe' || (level === 'controversial' && policy.controversial === 'unsafe');
}

function mostSevere({ categories }: Verdict, policy: TenantPolicy): CategoryAction {
  if (categories.length === 0) return policy.defaultAction;
  return categories
    .map((category) => policy.categoryActions[category] ?? policy.defaultAction)
    .reduce((worst, action) => (SEVERITY[action] > SEVERITY[worst] ? action : worst));
}
