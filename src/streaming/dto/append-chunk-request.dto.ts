import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsOptional, IsString } from 'class-validator';

/** POST /v1/streams/{id}/chunks: the next piece of the answer. */
export class AppendChunkRequestDto {
  @ApiProperty({
    example: 'Chemistry grew out of alchemy',
    description: 'The next characters of the answer, exactly as the LLM produced them (may be empty with `check`). At most STREAM_MAX_CHUNK_CHARS.',
  })
  @IsString()
  text!: string;

  @ApiPropertyOptional({ default: false, description: 'Check now, whether or not a check is due.' })
  @IsOptional()
  @IsBoolean()
  check?: boolean;
}
