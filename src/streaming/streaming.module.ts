import { Module } from '@nestjs/common';
import { ModerationModule } from '../moderation/moderation.module';
import { TenantModule } from '../tenant/tenant.module';
import { UsageModule } from '../usage/usage.module';
import { StreamingController } from './streaming.controller';
import { StreamingService } from './streaming.service';

@Module({
  imports: [TenantModule, UsageModule, ModerationModule],
  controllers: [StreamingController],
  providers: [StreamingService],
})
export class StreamingModule {}
