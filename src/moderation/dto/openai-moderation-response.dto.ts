import { ApiProperty, ApiPropertyOptions } from '@nestjs/swagger';
import { RISK_CATEGORIES, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../../inference';
import { DecisionDto } from './decision.dto';
import { ProbabilitiesDto } from './probabilities.dto';

function perCategorySchema(type: 'boolean' | 'number', example: Record<string, boolean | number>, description: string): ApiPropertyOptions {
  return {
    type: 'object',
    properties: Object.fromEntries(RISK_CATEGORIES.map((name) => [name, { type }])),
    required: [...RISK_CATEGORIES],
    example,
    description,
  };
}

const EXAMPLE_FLAGS = Object.fromEntries(RISK_CATEGORIES.map((name) => [name, name === 'Violent']));
const EXAMPLE_SCORES = Object.fromEntries(RISK_CATEGORIES.map((name) => [name, name === 'Violent' ? 0.98 : 0]));

/** One result of POST /v1/moderations: OpenAI's fields first, then Qwen3Guard's own. */
export class OpenAiModerationResultDto {
  @ApiProperty({ example: true, description: "The caller's tenant policy: true unless it allows the content (strict by default: unsafe or controversial)." })
  flagged!: boolean;

  @ApiProperty(perCategorySchema('boolean', EXAMPLE_FLAGS, 'Every Qwen3Guard category, true when the model named it.'))
  categories!: Record<RiskCategory, boolean>;

  @ApiProperty(
    perCategorySchema(
      'number',
      EXAMPLE_SCORES,
      'Qwen3Guard scores the verdict, not each category: a category the model named gets P(unsafe) + P(controversial), ' +
        'the probability that the text is not safe; every other category gets 0.',
    ),
  )
  category_scores!: Record<RiskCategory, number>;

  @ApiProperty({ enum: SAFETY_LEVELS, example: 'unsafe' })
  safety_level!: SafetyLevel;

  @ApiProperty({ enum: RISK_CATEGORIES, isArray: true, example: ['Violent'], description: 'The categories the model named.' })
  qwen3guard_categories!: RiskCategory[];

  @ApiProperty({ type: ProbabilitiesDto, nullable: true, description: 'null when a blocklist short-circuit decided without the model.' })
  probabilities!: ProbabilitiesDto | null;

  @ApiProperty({ type: DecisionDto })
  decision!: DecisionDto;
}

/** The answer of POST /v1/moderations, as OpenAI clients read it. */
export class OpenAiModerationResponseDto {
  @ApiProperty({ example: 'modr-5f2c0e9a1b7d4c3e8a6f0b1d' })
  id!: string;

  @ApiProperty({ example: 'Qwen3Guard-Gen-0.6B', description: 'The model that answered.' })
  model!: string;

  @ApiProperty({ type: [OpenAiModerationResultDto], description: 'One result per input, in order.' })
  results!: OpenAiModerationResultDto[];
}
