import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RequestContextModule } from '../http/request-context.module';
import { UsageLedger } from './usage-ledger';
import { UsageMeter } from './usage-meter';
import { UsageController } from './usage.controller';
import { UsageService } from './usage.service';

/**
 * Metering: the SQLite usage ledger at QWEN3GUARD_USAGE_DB (opened at start-up: a path that cannot be
 * opened stops the service), the meter the moderation service records through, and GET /v1/usage.
 */
@Module({
  imports: [RequestContextModule],
  controllers: [UsageController],
  providers: [{ provide: UsageLedger, inject: [AppConfig], useFactory: (config: AppConfig) => new UsageLedger(config.QWEN3GUARD_USAGE_DB) }, UsageMeter, UsageService],
  exports: [UsageMeter],
})
export class UsageModule implements OnApplicationShutdown {
  constructor(@Inject(UsageLedger) private readonly ledger: UsageLedger) {}

  onApplicationShutdown(): void {
    this.ledger.close();
  }
}
