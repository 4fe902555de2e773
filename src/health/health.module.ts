import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ModerationModule } from '../moderation/moderation.module';
import { UsageModule } from '../usage/usage.module';
import { HealthController } from './health.controller';
import { ModelReadyHealthIndicator } from './model-ready.health';

@Module({
  // Terminus would log every failed probe while the model loads; EngineLoader logs the outcome once.
  imports: [TerminusModule.forRoot({ logger: false }), ModerationModule, UsageModule],
  controllers: [HealthController],
  providers: [ModelReadyHealthIndicator],
})
export class HealthModule {}
