import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsObject, ValidateNested } from 'class-validator';
import { ExactlyOneOf } from '../../common/validation/exactly-one-of.decorator';
import { ChatMessageDto } from './chat-message.dto';
import { ModerateItemDto } from './moderate-item.dto';
import { MessagesField, PromptField, ResponseField } from './moderation-fields';

const REQUEST_FORMS = ['prompt', 'messages', 'items'] as const;

/** The body of POST /v1/moderate: one item in either form, or a batch of items. */
export class ModerateRequestDto {
  @PromptField(REQUEST_FORMS)
  prompt?: string;

  @ResponseField()
  response?: string;

  @MessagesField(REQUEST_FORMS)
  messages?: ChatMessageDto[];

  @ApiPropertyOptional({
    type: [ModerateItemDto],
    minItems: 1,
    description: 'A batch: each item is `{prompt, response?}` or `{messages}`; at most MAX_BATCH_ITEMS (default 32).',
  })
  @ValidateNested({ each: true })
  @Type(() => ModerateItemDto)
  // ValidateNested passes an array nested in the array (it validates its elements instead).
  @IsObject({ each: true })
  @ArrayMinSize(1)
  @IsArray()
  @ExactlyOneOf(REQUEST_FORMS)
  items?: ModerateItemDto[];
}
