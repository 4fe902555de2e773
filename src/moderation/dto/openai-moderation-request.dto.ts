import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, ValidateBy } from 'class-validator';

/** OpenAI's text part of a multi-modal `input`. */
export interface OpenAiTextPart {
  type: 'text';
  text: string;
}

/** OpenAI's image part: recognised so that it is refused by name (this model reads text only). */
export interface OpenAiImagePart {
  type: 'image_url';
  image_url: unknown;
}

export type OpenAiInputEntry = string | OpenAiTextPart | OpenAiImagePart;

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isEntry(value: unknown): value is OpenAiInputEntry {
  if (isText(value)) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const part = value as Record<string, unknown>;
  if (part.type === 'text') return isText(part.text);
  return part.type === 'image_url';
}

/** The first entry of a list input that is neither a text nor a part, for the message. */
function firstBadEntry(value: unknown): number | undefined {
  if (!Array.isArray(value)) return undefined;
  const index = value.findIndex((entry) => !isEntry(entry));
  return index < 0 ? undefined : index;
}

/** OpenAI's `input`: a non-empty string, or a non-empty list of strings and `{type: "text", text}` / `{type: "image_url"}` parts. */
function IsModerationInput(): PropertyDecorator {
  return ValidateBy({
    name: 'isModerationInput',
    validator: {
      validate: (value: unknown) => isText(value) || (Array.isArray(value) && value.length > 0 && value.every(isEntry)),
      defaultMessage: (args) => {
        const bad = firstBadEntry(args?.value);
        return (
          (bad === undefined ? '' : `input.${bad} is neither a non-empty string nor a {"type": "text", "text": "..."} part: `) +
          'input must be a non-empty string or a non-empty array of non-empty strings and {"type": "text", "text": "..."} parts'
        );
      },
    },
  });
}

const TEXT_PART_SCHEMA = {
  type: 'object',
  required: ['type', 'text'],
  properties: { type: { type: 'string', enum: ['text'] }, text: { type: 'string', minLength: 1 } },
};

const IMAGE_PART_SCHEMA = {
  type: 'object',
  required: ['type', 'image_url'],
  description: 'Refused with 400 TEXT_INPUT_ONLY: Qwen3Guard-Gen reads text only.',
  properties: { type: { type: 'string', enum: ['image_url'] }, image_url: { type: 'object', properties: { url: { type: 'string' } } } },
};

/** The body of POST /v1/moderations, as the OpenAI SDK sends it. */
export class OpenAiModerationRequestDto {
  @ApiPropertyOptional({
    description:
      'Accepted for compatibility with OpenAI clients: `omni-moderation-latest`, `text-moderation-latest`, `qwen3guard`, the served ' +
      "model's id, or any other name, all answered by the served model, which the response names.",
    example: 'omni-moderation-latest',
  })
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  model?: string;

  @ApiProperty({
    oneOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', items: { oneOf: [{ type: 'string', minLength: 1 }, TEXT_PART_SCHEMA, IMAGE_PART_SCHEMA] }, minItems: 1 },
    ],
    description:
      'A text, or a list (at most MAX_BATCH_ITEMS) of texts and `{"type": "text", "text": "..."}` parts, each moderated as a user ' +
      'prompt. `{"type": "image_url"}` parts are refused (400 TEXT_INPUT_ONLY): the model reads text only.',
    example: ['I want to hurt someone.', { type: 'text', text: 'What is the capital of France?' }],
  })
  @IsModerationInput()
  input!: string | OpenAiInputEntry[];
}
