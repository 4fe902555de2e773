import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsNotEmpty, IsObject, IsString, ValidateBy, ValidateNested } from 'class-validator';
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

/**
 * A conversation of system messages only leaves the model nothing to judge. Anything else passes here, so
 * that a malformed message is reported by its own rules (messages.0.role ...), not by this one.
 */
function HasTurnToJudge(): PropertyDecorator {
  return ValidateBy({
    name: 'hasTurnToJudge',
    validator: {
      validate: (value: unknown) => !Array.isArray(value) || !value.every((message) => (message as { role?: unknown } | null)?.role === 'system'),
      defaultMessage: () => 'messages must hold a user or assistant message: system messages are not shown to the model',
    },
  });
}

/** `messages`: a whole conversation; the role of its last user or assistant message decides the mode. */
export function MessagesField(forms: readonly string[]): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({
      type: [ChatMessageDto],
      minItems: 1,
      maxItems: MAX_CONVERSATION_MESSAGES,
      description:
        'A conversation, oldest first. A last message from `user` asks for prompt moderation, from `assistant` for response moderation. ' +
        '`system` messages are accepted and not shown to the model (its template has turns for users and assistants only), so they ' +
        'neither change the verdict nor decide the mode.',
    }),
    ExactlyOneOf(forms),
    IsArray(),
    ArrayMinSize(1),
    ArrayMaxSize(MAX_CONVERSATION_MESSAGES),
    HasTurnToJudge(),
    // ValidateNested passes an array nested in the array (it validates its elements instead).
    IsObject({ each: true }),
    Type(() => ChatMessageDto),
    ValidateNested({ each: true }),
  );
}
