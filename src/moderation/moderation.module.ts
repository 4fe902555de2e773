import { Module } from '@nestjs/common';
import { ModerationEngine } from '../inference';
import { RequestContextModule } from '../http/request-context.module';
import { UsageModule } from '../usage/usage.module';
import { EngineLoader } from './engine-loader.service';
import { ModerateController } from './moderate.controller';
import { moderationEngineProvider } from './moderation-engine.provider';
import { ModerationService } from './moderation.service';
import { OpenAiModerationsController } from './openai-moderations.controller';
import { PredictController } from './predict.controller';

@Module({
  imports: [RequestContextModule, UsageModule],
  controllers: [PredictController, ModerateController, OpenAiModerationsController],
  providers: [moderationEngineProvider, EngineLoader, ModerationService],
  exports: [ModerationEngine, EngineLoader],
})
export class ModerationModule {}
