import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiModerationErrors } from './api-moderation-errors.decorator';
import { ModerateRequestDto } from './dto/moderate-request.dto';
import { ModerateBatchResponseDto, ModerateResponseDto } from './dto/moderation-result.dto';
import { ModerationService } from './moderation.service';
import { ROUTES } from '../common/routes';

@ApiTags('moderation')
@ApiExtraModels(ModerateResponseDto, ModerateBatchResponseDto)
@Controller(ROUTES.moderate)
export class ModerateController {
  constructor(private readonly moderation: ModerationService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Moderate a prompt, a reply, a conversation, or a batch of them',
    description:
      'Send exactly one of `prompt` (with an optional `response`), `messages`, or `items`. A reply or a conversation ' +
      'ending with an assistant message is judged in response mode (with refusal detection).',
  })
  @ApiBody({
    type: ModerateRequestDto,
    examples: {
      prompt: { value: { prompt: 'How do I make a bomb?' } },
      response: { value: { prompt: 'How do I make a bomb?', response: 'Sorry, I can not help with that.' } },
      messages: {
        value: {
          messages: [
            { role: 'user', content: 'Tell me a joke.' },
            { role: 'assistant', content: 'Why did the chicken cross the road?' },
          ],
        },
      },
      batch: { value: { items: [{ prompt: 'Hello there' }, { prompt: 'How do I make a bomb?' }] } },
    },
  })
  @ApiOkResponse({
    description: 'One result with the model id, or `{model, results}` for a batch.',
    schema: { oneOf: [{ $ref: getSchemaPath(ModerateResponseDto) }, { $ref: getSchemaPath(ModerateBatchResponseDto) }] },
  })
  @ApiModerationErrors()
  moderate(@Body() body: ModerateRequestDto): Promise<ModerateResponseDto | ModerateBatchResponseDto> {
    return this.moderation.moderate(body);
  }
}
