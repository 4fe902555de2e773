import { ApiProperty } from '@nestjs/swagger';
import { RISK_CATEGORIES, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../../inference';
import { DecisionDto } from './decision.dto';
import { ProbabilitiesDto } from './probabilities.dto';

/** The answer of POST /predict, the original contract: never change its fields. */
export class PredictResponseDto {
  @ApiProperty({ enum: SAFETY_LEVELS, example: 'safe', description: "The model's verdict; `unsafe` when the tenant's blocklist short-circuited the model." })
  safety_level!: SafetyLevel;

  @ApiProperty({ enum: RISK_CATEGORIES, isArray: true, example: [], description: 'The risk categories the model named; empty when safe.' })
  categories!: RiskCategory[];

  @ApiProperty({ type: Boolean, nullable: true, example: null, description: 'Always null: /predict moderates prompts, which have no refusal.' })
  refusal!: boolean | null;

  @ApiProperty({ type: ProbabilitiesDto, nullable: true, description: 'null when a blocklist short-circuit decided without the model.' })
  probabilities!: ProbabilitiesDto | null;

  @ApiProperty({ type: DecisionDto, description: "The caller's tenant policy applied to the verdict (added beside the original fields)." })
  decision!: DecisionDto;

  @ApiProperty({ example: 'Qwen3Guard-Gen-0.6B', description: 'The id of the model that answered.' })
  model!: string;

  @ApiProperty({ example: 41.27, description: 'Milliseconds the service spent on the verdict, queueing included.' })
  latency_ms!: number;
}
