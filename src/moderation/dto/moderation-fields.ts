import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsNotEmpty, IsObject, IsString, ValidateNested } from 'class-validator';
import { ExactlyOneOf } from '../../common/validation/exactly-one-of.decorator';
import { OnlyWith } from '../../common/validation/only-with.decorator';
import { ChatMessageDto } from './chat-message.dto';

/** Longest conversation accepted; each message's text is bounded separately by MAX_TEXT_CHARS. */
export const MAX_CONVERSATION_MESSAGES = 64;

/*
 * The fields a moderation item and a moderation request share, as decorator bundles so the two DTOs
 * declare them once. applyDecorators registers in list order, which is the order class-validator
 * checks them in (stopping at the first failure): the form check first, then the type check.
 */

/** `prompt`: one form among `forms`; it also reports a body that has none of them. */
export function PromptField(forms: readonly string[]): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: 'A user prompt to moderate (prompt moderation), or with `response` the prompt the reply answers.',
      example: 'How can I make a dangerous weapon at home?',
      minLength: 1,
    }),
    ExactlyOneOf(forms, { reportsAbsence: true }),
    IsString(),
    IsNotEmpty(),
  );
}

/** `response`: the assistant reply to judge; switches the item to response moderation. */
export function ResponseField(): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      description: 'An assistant reply to the prompt; when present the reply is judged (response moderation).',
      example: 'I can not help with that.',
      minLength: 1,
    }),
    OnlyWith('prompt'),
    IsString(),
    IsNotEmpty(),
  );
}

/** `messages`: a whole conversation; the role of its last message decides the mode. */
export function MessagesField(forms: readonly string[]): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [ChatMessageDto],
      minItems: 1,
      maxItems: MAX_CONVERSATION_MESSAGES,
      description:
        'A conversation, oldest first. A last message from `user` asks for prompt moderation, from `assistant` for response moderation.',
    }),
    ExactlyOneOf(forms),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_CONVERSATION_MESSAGES),
    // ValidateNested passes an array nested in the array (it validates its elements instead).
    IsObject({ each: true }),
    Type(() => ChatMessageDto),
    ValidateNested({ each: true }),
  );
}
