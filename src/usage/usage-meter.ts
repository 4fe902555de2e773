import { Injectable, Optional } from '@nestjs/common';
import { ApiException } from '../common/api-exception';
import { ErrorCode } from '../common/error-code';
import { RiskCategory, Verdict } from '../inference';
import { ServiceMetrics } from '../metrics/service-metrics';
import { Tenant } from '../tenant/tenant';
import { UsageLedger } from './usage-ledger';

/** What the meter reads of one answered item: the model's verdict (none when a blocklist decided), its size, whether it was flagged. */
export interface MeteredItem {
  verdict?: Verdict;
  /** Unicode code points of the item's texts. */
  characters: number;
  decision: { flagged: boolean };
}

/**
 * Meters every answered moderation request for its tenant: the durable ledger row (written first: if it
 * cannot be written the request fails rather than go unbilled) and the `tenant`-labelled verdict and token
 * counters (the engine itself does not know tenants).
 */
@Injectable()
export class UsageMeter {
  constructor(
    private readonly ledger: UsageLedger,
    @Optional() private readonly metrics?: ServiceMetrics,
  ) {}

  async record(tenant: Tenant, endpoint: string, outcomes: readonly MeteredItem[]): Promise<void> {
    const verdicts = outcomes.flatMap(({ verdict }) => (verdict ? [verdict] : []));
    const promptTokens = sum(verdicts.map((verdict) => verdict.promptTokens));
    try {
      await this.ledger.record({
        tenant: tenant.id,
        endpoint,
        at: new Date(),
        items: outcomes.length,
        promptTokens,
        characters: sum(outcomes.map((outcome) => outcome.characters)),
        flagged: outcomes.filter((outcome) => outcome.decision.flagged).length,
      });
    } catch (error) {
      this.metrics?.usageLedgerErrors.inc();
      throw new ApiException(ErrorCode.UsageLedgerUnavailable, 'the usage ledger cannot be written; the request was not served', { detail: describe(error) });
    }
    this.count(tenant.metricLabel, verdicts, promptTokens);
  }

  private count(tenant: string, verdicts: readonly Verdict[], promptTokens: number): void {
    if (!this.metrics) return;
    const { verdicts: verdictCounter, tokens } = this.metrics;
    for (const verdict of verdicts) verdictCounter.inc({ tenant, safety_level: verdict.safetyLevel, category: verdictCategory(verdict.categories) });
    tokens.inc({ tenant, kind: 'prompt' }, promptTokens);
    tokens.inc({ tenant, kind: 'cached' }, sum(verdicts.map((verdict) => verdict.cachedTokens)));
    tokens.inc({ tenant, kind: 'generated' }, sum(verdicts.map((verdict) => verdict.generatedTokens)));
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The `category` label of a verdict: its first (primary) category, or `None` when the model lists none. */
export function verdictCategory(categories: readonly RiskCategory[]): RiskCategory | 'None' {
  return categories[0] ?? 'None';
}
