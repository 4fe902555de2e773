import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, ValidateBy } from 'class-validator';

function isText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/** OpenAI's `input`: one non-empty string or a non-empty list of them. */
function IsTextOrTextList(): PropertyDecorator {
  return ValidateBy({
    name: 'isTextOrTextList',
    validator: {
      validate: (value: unknown) => isText(value) || (Array.isArray(value) && value.length > 0 && value.every(isText)),
      defaultMessage: () => 'input must be a non-empty string or a non-empty array of non-empty strings',
    },
  });
}

/** The body of POST /v1/moderations, as the OpenAI SDK sends it. */
export class OpenAiModerationRequestDto {
  @ApiPropertyOptional({
    description: 'Accepted for compatibility with OpenAI clients; the configured model always answers and is named in the response.',
    example: 'qwen3guard-gen',
  })
  @IsOptional()
  @IsNotEmpty()
  @IsString()
  model?: string;

  @ApiProperty({
    oneOf: [
      { type: 'string', minLength: 1 },
      { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
    ],
    description: 'A text or a list of texts (at most MAX_BATCH_ITEMS), each moderated as a user prompt.',
    example: ['I want to hurt someone.', 'What is the capital of France?'],
  })
  @IsTextOrTextList()
  input!: string | string[];
}
