import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, Matches } from 'class-validator';
import { USAGE_GRANULARITIES, UsageGranularity } from '../usage-ledger';

export const USAGE_FORMATS = ['json', 'csv'] as const;
export type UsageFormat = (typeof USAGE_FORMATS)[number];

/** GET /v1/usage's query string. */
export class UsageQueryDto {
  @ApiPropertyOptional({ example: '2026-11-01T00:00:00Z', description: 'Start (ISO 8601); the hour holding it is included. Default: 24 hours before `to`.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ example: '2026-12-01T00:00:00Z', description: 'End (ISO 8601, exclusive; the hour holding it is included). Default: now.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: USAGE_GRANULARITIES, default: 'hour' })
  @IsOptional()
  @IsIn(USAGE_GRANULARITIES)
  granularity?: UsageGranularity;

  @ApiPropertyOptional({ description: "One tenant's usage (admin keys only; others may name only their own tenant)." })
  @IsOptional()
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'tenant must be a tenant id' })
  tenant?: string;

  @ApiPropertyOptional({ enum: USAGE_FORMATS, default: 'json', description: 'csv: text/csv with a header row (also chosen by `Accept: text/csv`).' })
  @IsOptional()
  @IsIn(USAGE_FORMATS)
  format?: UsageFormat;
}
