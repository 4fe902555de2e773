import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SAFETY_LEVELS, SafetyLevel } from '../../inference';
import { ModerationResultDto } from '../../moderation/dto/moderation-result.dto';

export class FirstFlagDto {
  @ApiProperty({ example: 3, description: 'The check (1 for the first) whose verdict was first Unsafe or Controversial.' })
  check!: number;

  @ApiProperty({ example: 412, description: 'Characters (UTF-16 code units) of the answer that check judged.' })
  answer_chars!: number;

  @ApiProperty({ enum: SAFETY_LEVELS.filter((level) => level !== 'safe'), example: 'unsafe' })
  safety_level!: Exclude<SafetyLevel, 'safe'>;
}

export class StreamCheckDto {
  @ApiProperty({ example: 3, description: "This check's number (1 for the first)." })
  check!: number;

  @ApiProperty({ example: 412, description: 'Characters of the answer this verdict covers.' })
  answer_chars!: number;

  @ApiProperty({ example: 520, description: "Prompt positions whose keys and values came from the stream's cache." })
  reused_tokens!: number;

  @ApiProperty({ example: 83, description: 'Prompt positions this check computed (new answer tokens and the template tail).' })
  computed_tokens!: number;

  @ApiProperty({ type: ModerationResultDto, description: 'What POST /v1/moderate gives for the prompt and the answer so far.' })
  result!: ModerationResultDto;
}

/** A stream's state after a call; `check` when a verdict was due. */
export class StreamStateDto {
  @ApiProperty({ example: '0b9f3c52-8a51-4d8e-9a5e-2a4b6f1f1c0e' })
  id!: string;

  @ApiProperty({ example: 'qwen3guard-gen-0.6b' })
  model!: string;

  @ApiProperty({ example: 412, description: 'Characters of the answer so far.' })
  answer_chars!: number;

  @ApiProperty({ example: 97, description: 'Answer tokens so far.' })
  answer_tokens!: number;

  @ApiProperty({ example: 3, description: 'Checks run so far.' })
  checks!: number;

  @ApiProperty({ example: false, description: 'True once the stream is closed (on request, or at the first Unsafe with close_on_unsafe).' })
  closed!: boolean;

  @ApiProperty({ type: FirstFlagDto, nullable: true, description: 'Where the verdict first turned Unsafe or Controversial.' })
  first_flag!: FirstFlagDto | null;

  @ApiPropertyOptional({ type: StreamCheckDto, description: 'The verdict this call produced, when a check was due.' })
  check?: StreamCheckDto;
}
