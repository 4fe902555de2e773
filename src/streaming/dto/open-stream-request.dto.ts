import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsBoolean, IsInt, IsNotEmpty, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { ChatMessageDto } from '../../moderation/dto/chat-message.dto';

/** POST /v1/streams: the conversation the streamed answer replies to (one of `prompt` or `messages`). */
export class OpenStreamRequestDto {
  @ApiPropertyOptional({ example: 'Tell me about the history of chemistry.', description: 'The user prompt the streamed answer replies to.' })
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  prompt?: string;

  @ApiPropertyOptional({ type: [ChatMessageDto], description: 'The conversation so far, ending with the user turn the streamed answer replies to.' })
  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  @ArrayMinSize(1)
  @IsArray()
  messages?: ChatMessageDto[];

  @ApiPropertyOptional({ default: false, description: 'Close the stream at its first Unsafe verdict.' })
  @IsOptional()
  @IsBoolean()
  close_on_unsafe?: boolean;

  @ApiPropertyOptional({
    minimum: 1,
    maximum: 100000,
    description: 'A check is due every this many new answer tokens; default STREAM_CHECK_EVERY_TOKENS (32).',
  })
  @IsOptional()
  @Max(100_000)
  @Min(1)
  @IsInt()
  check_every_tokens?: number;
}
