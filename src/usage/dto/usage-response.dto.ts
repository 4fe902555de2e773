import { ApiProperty } from '@nestjs/swagger';
import { USAGE_GRANULARITIES, UsageGranularity } from '../usage-ledger';

export class UsageRowDto {
  @ApiProperty({ example: 'shop-reviews' })
  tenant!: string;

  @ApiProperty({ example: '2026-11-27T14:00:00Z', description: 'Start of the hour or day (UTC).' })
  period!: string;

  @ApiProperty({ example: '/v1/moderate' })
  endpoint!: string;

  @ApiProperty({ example: 120, description: 'Answered requests.' })
  requests!: number;

  @ApiProperty({ example: 480, description: 'Inputs moderated (a batch request carries several).' })
  items!: number;

  @ApiProperty({ example: 151000, description: 'Prompt tokens the model read.' })
  prompt_tokens!: number;

  @ApiProperty({ example: 96000, description: 'Unicode code points moderated.' })
  characters!: number;

  @ApiProperty({ example: 7, description: "Inputs the tenant's policy flagged or blocked." })
  flagged!: number;
}

export class UsageResponseDto {
  @ApiProperty({ example: '2026-11-26T14:00:00.000Z' })
  from!: string;

  @ApiProperty({ example: '2026-11-27T14:00:00.000Z' })
  to!: string;

  @ApiProperty({ enum: USAGE_GRANULARITIES })
  granularity!: UsageGranularity;

  @ApiProperty({ type: [UsageRowDto] })
  rows!: UsageRowDto[];
}
