import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { LiveStatsDto } from './dto/live-stats.dto';
import { LiveStatsService } from './live-stats.service';
import { ROUTES } from '../common/routes';

@ApiTags('stats')
@Controller(ROUTES.stats)
export class LiveStatsController {
  constructor(private readonly stats: LiveStatsService) {}

  @Get()
  // A live number: a cache in between would show a stale one.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: "The service's request rate, latency and verdict mix over the last minute",
    description: "Aggregate counts only, for the playground's live panel. Prometheus scrapes the full metrics on METRICS_PORT.",
  })
  @ApiOkResponse({ type: LiveStatsDto })
  @ApiResponse({ status: 404, description: 'NOT_FOUND: the metrics are off (METRICS_MODE=off).', type: ErrorResponseDto })
  current(): Promise<LiveStatsDto> {
    return this.stats.current();
  }
}
