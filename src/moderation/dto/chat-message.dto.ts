import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString } from 'class-validator';
import { ChatMessage } from '../../inference';

const ROLES: readonly ChatMessage['role'][] = ['user', 'assistant'];

/** One turn of a conversation; rules run bottom-up, so the type check is reported first. */
export class ChatMessageDto implements ChatMessage {
  @ApiProperty({ enum: ROLES, example: 'user' })
  @IsIn(ROLES)
  role!: ChatMessage['role'];

  @ApiProperty({ example: 'How do I pick a lock?', minLength: 1 })
  @IsNotEmpty()
  @IsString()
  content!: string;
}
