import { ChatMessageDto } from './chat-message.dto';
import { MessagesField, PromptField, ResponseField } from './moderation-fields';

const ITEM_FORMS = ['prompt', 'messages'] as const;

/** One thing to moderate: `{prompt, response?}` or `{messages}`. */
export class ModerateItemDto {
  @PromptField(ITEM_FORMS)
  prompt?: string;

  @ResponseField()
  response?: string;

  @MessagesField(ITEM_FORMS)
  messages?: ChatMessageDto[];
}
