import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { UsageLedger } from './usage-ledger';

/**
 * Readiness's account of the usage ledger: whether its database answers, and what the driver said when it
 * does not. It reports without taking the replica out of rotation: every replica shares the database, so
 * taking them all out would turn coded 503 USAGE_LEDGER_UNAVAILABLE answers into connection failures, and
 * none would be back in rotation any sooner once the database returns.
 */
@Injectable()
export class UsageLedgerHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly ledger: UsageLedger,
  ) {}

  async check(key = 'usage_ledger'): Promise<HealthIndicatorResult> {
    const indicator = this.health.check(key);
    try {
      await this.ledger.ping();
      return indicator.up({ backend: this.ledger.backend, state: 'reachable' });
    } catch (error) {
      return indicator.up({ backend: this.ledger.backend, state: 'unreachable', error: error instanceof Error ? error.message : String(error) });
    }
  }
}
