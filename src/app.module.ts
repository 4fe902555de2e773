import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { HttpPipelineModule } from './http/http-pipeline';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './common/logging/logging.module';
import { LiveStatsModule } from './live-stats/live-stats.module';
import { MetricsModule } from './metrics/metrics.module';
import { ModerationModule } from './moderation/moderation.module';
import { StreamingModule } from './streaming/streaming.module';
import { UsageModule } from './usage/usage.module';

/**
 * The application, built around an already validated configuration. MetricsModule comes first: it is
 * global, and the engine provider in ModerationModule injects its engine observer.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule,
        MetricsModule.forRoot(config),
        LifecycleModule,
        HttpPipelineModule,
        ModerationModule,
        StreamingModule,
        UsageModule,
        HealthModule,
        LiveStatsModule,
      ],
    };
  }
}
