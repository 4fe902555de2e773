import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiModerationErrors } from './api-moderation-errors.decorator';
import { OpenAiModerationRequestDto } from './dto/openai-moderation-request.dto';
import { OpenAiModerationResponseDto } from './dto/openai-moderation-response.dto';
import { ModerationService } from './moderation.service';
import { ROUTES } from '../common/routes';

@ApiTags('openai-compatible')
@Controller(ROUTES.moderations)
export class OpenAiModerationsController {
  constructor(private readonly moderation: ModerationService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'OpenAI-compatible moderation',
    description:
      'Works with OpenAI clients unchanged (`client.moderations.create({ model, input })` with the base URL set to this ' +
      "service's `/v1`). Each input is judged as a user prompt. `flagged` is true for unsafe and controversial verdicts. " +
      '`categories` and `category_scores` list all nine Qwen3Guard categories: Qwen3Guard scores the verdict rather than ' +
      'each category, so a category the model named scores P(unsafe) + P(controversial) and every other category 0.',
  })
  @ApiOkResponse({ type: OpenAiModerationResponseDto })
  @ApiModerationErrors()
  create(@Body() body: OpenAiModerationRequestDto): Promise<OpenAiModerationResponseDto> {
    return this.moderation.moderateOpenAi(body);
  }
}
