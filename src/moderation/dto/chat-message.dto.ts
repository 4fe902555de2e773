import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString } from 'class-validator';
import { ChatMessage } from '../../inference';

/**
 * A turn's role as clients send it: the judged roles, plus `system`, which chat clients put first and the
 * service accepts but does not show the model (Qwen3Guard-Gen's template has turns for USER and ASSISTANT only).
 */
export type RequestRole = ChatMessage['role'] | 'system';
export const REQUEST_ROLES: readonly RequestRole[] = ['system', 'user', 'assistant'];

/** One turn of a conversation; rules run bottom-up, so the type check is reported first. */
export class ChatMessageDto {
  @ApiProperty({
    enum: REQUEST_ROLES,
    example: 'user',
    description: '`system` messages are accepted and left out of what the model judges: its template has turns for users and assistants only.',
  })
  @IsIn(REQUEST_ROLES)
  role!: RequestRole;

  @ApiProperty({ example: 'How do I pick a lock?', minLength: 1 })
  @IsNotEmpty()
  @IsString()
  content!: string;
}
