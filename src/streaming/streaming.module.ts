import { Module } from '@nestjs/common';
import { ModerationModule } from '../moderation/moderation.module';
import { RequestContextModule } from '../http/request-context.module';
import { UsageModule } from '../usage/usage.module';
import { TenantModule } from '../tenant/tenant.module';
import { StreamSocket } from './stream-socket';
import { StreamingController } from './streaming.controller';
import { StreamingService } from './streaming.service';

@Module({
  imports: [RequestContextModule, UsageModule, ModerationModule, TenantModule],
  controllers: [StreamingController],
  providers: [StreamingService, StreamSocket],
})
export class StreamingModule {}
