import { Inject, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AppConfig } from '../config/app-config';
import { RequestContextModule } from '../http/request-context.module';
import { ledgerSettings } from './ledger/ledger-database';
import { UsageLedger } from './usage-ledger';
import { UsageLedgerHealthIndicator } from './usage-ledger.health';
import { UsageMeter } from './usage-meter';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

/**
 * Metering: the usage ledger (SQLite at QWEN3GUARD_USAGE_DB, or PostgreSQL at QWEN3GUARD_DATABASE_URL),
 * opened and migrated at start-up (a ledger that cannot be opened stops the service), the meter the
 * moderation service records through, its readiness report, and GET /v1/usage.
 */
@Module({
  imports: [RequestContextModule, TerminusModule],
  controllers: [UsageController],
  providers: [
    {
      provide: UsageLedger,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        const logger = new Logger('UsageLedger');
        // A restarted database drops the pool's idle connections: the pool replaces them, nothing to stop for.
        return UsageLedger.open(ledgerSettings(config, (error) => logger.warn(`idle database connection lost: ${error.message}`)));
      },
    },
    UsageMeter,
    UsageService,
    UsageLedgerHealthIndicator,
  ],
  exports: [UsageMeter, UsageLedgerHealthIndicator],
})
export class UsageModule implements OnApplicationShutdown {
  constructor(@Inject(UsageLedger) private readonly ledger: UsageLedger) {}

  onApplicationShutdown(): Promise<void> {
    return this.ledger.close();
  }
}
