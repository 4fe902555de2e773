import { ArgumentMetadata, Type } from '@nestjs/common';
import { ApiException } from '../../common/api-exception';
import { createValidationPipe } from '../../common/validation/create-validation-pipe';
import { ModerateItemDto } from './moderate-item.dto';
import { ModerateRequestDto } from './moderate-request.dto';
import { OpenAiModerationRequestDto } from './openai-moderation-request.dto';
import { PredictRequestDto } from './predict-request.dto';

const pipe = createValidationPipe();

function validate<T>(dto: Type<T>, body: unknown): Promise<T> {
  const metadata: ArgumentMetadata = { type: 'body', metatype: dto };
  return pipe.transform(body, metadata) as Promise<T>;
}

async function rejection(dto: Type<unknown>, body: unknown): Promise<{ message: string; field?: string }> {
  try {
    await validate(dto, body);
  } catch (error) {
    if (error instanceof ApiException) return { message: error.message, field: error.field };
    throw error;
  }
  throw new Error('expected the body to be rejected');
}

describe('request DTOs through the global validation pipe', () => {
  describe('PredictRequestDto', () => {
    it('accepts a text', async () => {
      expect(await validate(PredictRequestDto, { text: '测试内容安全性' })).toEqual(Object.assign(new PredictRequestDto(), { text: '测试内容安全性' }));
    });

    it.each([
      [{}, 'text must be a string'],
      [{ text: 1 }, 'text must be a string'],
      [{ text: '' }, 'text should not be empty'],
      [{ text: 'a', extra: true }, 'property extra should not exist'],
    ])('rejects %j: %s', async (body, message) => {
      expect((await rejection(PredictRequestDto, body)).message).toBe(message);
    });

    it('rejects a body that is not an object', async () => {
      expect(await rejection(PredictRequestDto, ['text'])).toEqual({ message: 'the request body must be a JSON object', field: undefined });
    });
  });

  describe('ModerateRequestDto', () => {
    it.each([
      [{ prompt: 'p' }],
      [{ prompt: 'p', response: 'r' }],
      [{ messages: [{ role: 'user', content: 'u' }] }],
      [
        {
          messages: [
            { role: 'system', content: 's' },
            { role: 'user', content: 'u' },
          ],
        },
      ],
      [{ items: [{ prompt: 'p' }, { prompt: 'p', response: 'r' }, { messages: [{ role: 'assistant', content: 'a' }] }] }],
    ])('accepts %j', async (body) => {
      await expect(validate(ModerateRequestDto, body)).resolves.toBeInstanceOf(ModerateRequestDto);
    });

    it('converts nested items and messages to their classes', async () => {
      const dto = await validate(ModerateRequestDto, { items: [{ messages: [{ role: 'user', content: 'u' }] }] });
      expect(dto.items?.[0]).toBeInstanceOf(ModerateItemDto);
    });

    it.each([
      [{}, undefined, 'provide exactly one of prompt, messages or items'],
      [{ prompt: 'p', messages: [{ role: 'user', content: 'u' }] }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ response: 'r' }, undefined, 'provide exactly one of prompt, messages or items'],
      [{ messages: [{ role: 'user', content: 'u' }], response: 'r' }, 'response', 'response is only allowed together with prompt'],
      [{ items: [{ response: 'r' }] }, 'items.0', 'provide exactly one of prompt or messages'],
      [{ items: [{ prompt: 'p', extra: 1 }] }, 'items.0.extra', 'property items.0.extra should not exist'],
      [{ messages: [{ role: 'tool', content: 'x' }] }, 'messages.0.role', 'messages.0.role must be one of the following values: system, user, assistant'],
      [
        { messages: [{ role: 'system', content: 's' }] },
        'messages',
        'messages must hold a user or assistant message: system messages are not shown to the model',
      ],
    ])('rejects %j at %s', async (body, field, message) => {
      expect(await rejection(ModerateRequestDto, body)).toEqual({ field, message });
    });
  });

  describe('OpenAiModerationRequestDto', () => {
    it.each([
      [{ input: 'a' }],
      [{ input: ['a', 'b'] }],
      [{ model: 'omni-moderation-latest', input: 'a' }],
      [{ input: [{ type: 'text', text: 'a' }] }],
      [{ input: ['a', { type: 'text', text: 'b' }] }],
      // Recognised so that the service can refuse it by name (TEXT_INPUT_ONLY), not as a malformed body.
      [{ input: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
    ])('accepts %j', async (body) => {
      await expect(validate(OpenAiModerationRequestDto, body)).resolves.toBeInstanceOf(OpenAiModerationRequestDto);
    });

    const SHAPE = 'input must be a non-empty string or a non-empty array of non-empty strings and {"type": "text", "text": "..."} parts';

    it.each([[{}], [{ input: '' }], [{ input: [] }], [{ input: { type: 'text', text: 'a' } }]])('rejects %j', async (body) => {
      expect(await rejection(OpenAiModerationRequestDto, body)).toEqual({ field: 'input', message: SHAPE });
    });

    it.each([
      [{ input: [''] }, 0],
      [{ input: ['a', { type: 'text', text: '' }] }, 1],
      [{ input: ['a', 'b', { type: 'text' }] }, 2],
      [{ input: [{ type: 'audio', audio: 'x' }] }, 0],
      [{ input: [['a']] }, 0],
    ])('rejects %j naming the entry', async (body, index) => {
      expect(await rejection(OpenAiModerationRequestDto, body)).toEqual({
        field: 'input',
        message: `input.${index} is neither a non-empty string nor a {"type": "text", "text": "..."} part: ${SHAPE}`,
      });
    });
  });
});
