import { Module } from '@nestjs/common';
import { LiveStatsController } from './live-stats.controller';
import { LiveStatsService } from './live-stats.service';

/** GET /v1/stats: a small JSON view of the service's own metrics on the API port, for the playground. */
@Module({
  controllers: [LiveStatsController],
  providers: [LiveStatsService],
})
export class LiveStatsModule {}
