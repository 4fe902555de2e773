import { ApiProperty } from '@nestjs/swagger';
import { SafetyLevel } from '../../inference';

/** The softmax over the three verdict words at the position after `Safety:`; sums to 1. */
export class ProbabilitiesDto implements Record<SafetyLevel, number> {
  @ApiProperty({ example: 0.97, minimum: 0, maximum: 1 })
  safe!: number;

  @ApiProperty({ example: 0.02, minimum: 0, maximum: 1 })
  controversial!: number;

  @ApiProperty({ example: 0.01, minimum: 0, maximum: 1 })
  unsafe!: number;
}
