import { Module } from '@nestjs/common';
import { ModerationModule } from '../moderation/moderation.module';
import { RequestContextModule } from '../http/request-context.module';
import { UsageModule } from '../usage/usage.module';
import { StreamingController } from './streaming.controller';
import { StreamingService } from './streaming.service';

@Module({
  imports: [RequestContextModule, UsageModule, ModerationModule],
  controllers: [StreamingController],
  providers: [StreamingService],
})
export class StreamingModule {}
