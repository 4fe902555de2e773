import { ModerationInput, ModerationMode, Verdict } from '../inference';
import { BLOCKLIST_DECISION, Decision, decide } from '../tenant/policy-decision';
import { TenantPolicy } from '../tenant/tenant';

/**
 * One moderated input as the endpoints report it: the model's verdict, absent when the tenant's blocklist
 * decided without the model, and the tenant's decision.
 */
export interface ModerationOutcome {
  mode: ModerationMode;
  verdict?: Verdict;
  decision: Decision;
  /** Unicode code points of the input's texts, for metering. */
  characters: number;
}

/** The model judged the input; the policy decides. A blocklist hit that let the model run still blocks. */
export function modelOutcome(input: ModerationInput, verdict: Verdict, policy: TenantPolicy, blocklistHit = false): ModerationOutcome {
  return { mode: verdict.mode, verdict, decision: blocklistHit ? BLOCKLIST_DECISION : decide(verdict, policy), characters: charactersOf(input) };
}

/** The tenant's blocklist decided alone: the model did not run. */
export function blocklistOutcome(input: ModerationInput, mode: ModerationMode): ModerationOutcome {
  return { mode, decision: BLOCKLIST_DECISION, characters: charactersOf(input) };
}

/** Unicode code points (not UTF-16 units) of every message. */
function charactersOf({ messages }: ModerationInput): number {
  let count = 0;
  for (const { content } of messages) for (const _ of content) count++;
  return count;
}
