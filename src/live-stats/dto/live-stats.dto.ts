import { ApiProperty } from '@nestjs/swagger';
import { SafetyLevel } from '../../inference';
import { WindowStats } from '../stats-window';

export class LatencyStatsDto {
  @ApiProperty({ example: 412.5, description: 'Mean in milliseconds' })
  mean!: number;

  @ApiProperty({ example: 380.1, description: 'Median, estimated from the latency histogram as Prometheus does' })
  p50!: number;

  @ApiProperty({ example: 940.3, description: '95th percentile, estimated likewise' })
  p95!: number;
}

export class VerdictCountsDto implements Record<SafetyLevel, number> {
  @ApiProperty({ example: 10 })
  safe!: number;

  @ApiProperty({ example: 1 })
  controversial!: number;

  @ApiProperty({ example: 3 })
  unsafe!: number;
}

export class LiveStatsDto implements WindowStats {
  @ApiProperty({ example: 60.2, description: 'The window the numbers cover, in seconds: about a minute, less just after start-up' })
  window_seconds!: number;

  @ApiProperty({ example: 14, description: 'Moderation requests answered (POST /predict, /v1/moderate, /v1/moderations)' })
  requests!: number;

  @ApiProperty({ example: 0.233 })
  requests_per_second!: number;

  @ApiProperty({ example: 1, description: 'Of those, the ones answered with an error' })
  errors!: number;

  @ApiProperty({ type: LatencyStatsDto, nullable: true, description: 'Null when no request finished in the window' })
  latency_ms!: LatencyStatsDto | null;

  @ApiProperty({ type: VerdictCountsDto, description: 'Verdicts returned, by safety level (a batch counts each item)' })
  verdicts!: VerdictCountsDto;
}
