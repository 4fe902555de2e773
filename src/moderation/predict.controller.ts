import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiModerationErrors } from './api-moderation-errors.decorator';
import { PredictRequestDto } from './dto/predict-request.dto';
import { PredictResponseDto } from './dto/predict-response.dto';
import { ModerationService } from './moderation.service';
import { ROUTES } from '../common/routes';

@ApiTags('predict')
@Controller(ROUTES.predict)
export class PredictController {
  constructor(private readonly moderation: ModerationService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Moderate one text (the original contract)',
    description: 'Judges the text as a user prompt. This contract is stable: scripts written against it keep working.',
  })
  @ApiOkResponse({ type: PredictResponseDto })
  @ApiModerationErrors()
  predict(@Body() body: PredictRequestDto): Promise<PredictResponseDto> {
    return this.moderation.predict(body);
  }
}
