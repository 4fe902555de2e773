import { ApiProperty } from '@nestjs/swagger';
import { ModerationMode, RISK_CATEGORIES, RiskCategory, SAFETY_LEVELS, SafetyLevel } from '../../inference';
import { DecisionDto } from './decision.dto';
import { ProbabilitiesDto } from './probabilities.dto';

const MODES: readonly ModerationMode[] = ['prompt', 'response'];

export class UsageDto {
  @ApiProperty({ example: 312, description: 'Tokens in the rendered moderation prompt.' })
  prompt_tokens!: number;

  @ApiProperty({ example: 180, description: 'Prompt tokens served from the prefix cache (the template preamble) instead of computed.' })
  cached_tokens!: number;

  @ApiProperty({ example: 9, description: "Tokens of the model's answer (forced format tokens included, as plain greedy decoding would write them)." })
  generated_tokens!: number;
}

export class TimingDto {
  @ApiProperty({ example: 1.2, description: 'Milliseconds waiting in the engine queue for a batch.' })
  queue!: number;

  @ApiProperty({ example: 0.8, description: 'Milliseconds rendering the template and tokenizing.' })
  tokenize!: number;

  @ApiProperty({ example: 25.1, description: 'Milliseconds in the forward pass over the prompt (shared by the rows of one batch).' })
  prefill!: number;

  @ApiProperty({ example: 14.3, description: 'Milliseconds decoding the answer after the prompt (shared by the rows of one batch).' })
  decode!: number;

  @ApiProperty({ example: 40.2, description: 'Milliseconds for the whole verdict, queue included.' })
  total!: number;
}

/** One verdict of POST /v1/moderate. */
export class ModerationResultDto {
  @ApiProperty({ enum: MODES, example: 'prompt', description: 'prompt: the last user message was judged; response: the last assistant reply.' })
  mode!: ModerationMode;

  @ApiProperty({
    enum: SAFETY_LEVELS,
    example: 'unsafe',
    description: "The model's verdict, whatever the tenant's policy; `unsafe` when a blocklist short-circuit decided without the model.",
  })
  safety_level!: SafetyLevel;

  @ApiProperty({ enum: RISK_CATEGORIES, isArray: true, example: ['Violent'] })
  categories!: RiskCategory[];

  @ApiProperty({ type: Boolean, nullable: true, example: null, description: 'Whether the reply refuses (response mode); null in prompt mode.' })
  refusal!: boolean | null;

  @ApiProperty({ type: ProbabilitiesDto, nullable: true, description: 'null when a blocklist short-circuit decided without the model.' })
  probabilities!: ProbabilitiesDto | null;

  @ApiProperty({ type: DecisionDto })
  decision!: DecisionDto;

  @ApiProperty({ type: UsageDto })
  usage!: UsageDto;

  @ApiProperty({ type: TimingDto, nullable: true, description: 'null when the model did not run.' })
  timing_ms!: TimingDto | null;
}

/** POST /v1/moderate for one item. */
export class ModerateResponseDto extends ModerationResultDto {
  @ApiProperty({ example: 'Qwen3Guard-Gen-0.6B' })
  model!: string;
}

/** POST /v1/moderate for a batch: results in the order of `items`. */
export class ModerateBatchResponseDto {
  @ApiProperty({ example: 'Qwen3Guard-Gen-0.6B' })
  model!: string;

  @ApiProperty({ type: [ModerationResultDto] })
  results!: ModerationResultDto[];
}
