import { DynamicModule, Module } from '@nestjs/common';
import { CommonModule } from './common/common.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { HealthModule } from './health/health.module';
import { ModerationModule } from './moderation/moderation.module';

/**
 * The application, built around an already validated configuration. A feature with a listener of its
 * own (the metrics endpoint on METRICS_PORT) joins as one more import reading AppConfig.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), CommonModule, ModerationModule, HealthModule],
    };
  }
}
