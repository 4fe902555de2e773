import { Body, Controller, Delete, HttpCode, Param, Post } from '@nestjs/common';
import { ROUTES } from '../common/routes';
import { ApiBody, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiModerationErrors } from '../moderation/api-moderation-errors.decorator';
import { ErrorResponseDto } from '../common/dto/error-response.dto';
import { AppendChunkRequestDto } from './dto/append-chunk-request.dto';
import { OpenStreamRequestDto } from './dto/open-stream-request.dto';
import { StreamStateDto } from './dto/stream-state.dto';
import { StreamingService } from './streaming.service';

const STREAM_ID = { name: 'id', description: 'The id POST /v1/streams returned.' };

@ApiTags('streaming')
@ApiModerationErrors()
@ApiNotFoundResponse({
  description: "No open stream of the caller's tenant has this id (unknown, closed, timed out, or another tenant's).",
  type: ErrorResponseDto,
})
@Controller(ROUTES.streams)
export class StreamingController {
  constructor(private readonly streaming: StreamingService) {}

  @Post()
  @ApiOperation({
    summary: 'Open a moderation stream for an answer that is being generated',
    description:
      'Give the conversation the answer replies to; append the answer in chunks with POST /v1/streams/{id}/chunks. ' +
      'Each verdict equals what POST /v1/moderate gives for the prompt and the answer so far, computed incrementally.',
  })
  @ApiBody({ type: OpenStreamRequestDto, examples: { prompt: { value: { prompt: 'Tell me about chemistry.', close_on_unsafe: true } } } })
  @ApiCreatedResponse({ type: StreamStateDto })
  @ApiResponse({
    status: 429,
    description: 'The tenant has STREAM_MAX_SESSIONS_PER_TENANT streams open; Retry-After says when one times out at the latest.',
    type: ErrorResponseDto,
  })
  open(@Body() body: OpenStreamRequestDto): StreamStateDto {
    return this.streaming.open(body);
  }

  @Post(':id/chunks')
  @HttpCode(200)
  @ApiParam(STREAM_ID)
  @ApiOperation({
    summary: 'Append the next chunk of the answer',
    description: 'Answers with `check` when a verdict was due: every check_every_tokens new answer tokens, at a sentence end, or when `check` is true.',
  })
  @ApiOkResponse({ type: StreamStateDto })
  append(@Param('id') id: string, @Body() body: AppendChunkRequestDto): Promise<StreamStateDto> {
    return this.streaming.append(id, body);
  }

  @Post(':id/close')
  @HttpCode(200)
  @ApiParam(STREAM_ID)
  @ApiOperation({ summary: 'Close a stream (same as DELETE /v1/streams/{id})' })
  @ApiOkResponse({ type: StreamStateDto })
  closeByPost(@Param('id') id: string): StreamStateDto {
    return this.streaming.close(id);
  }

  @Delete(':id')
  @ApiParam(STREAM_ID)
  @ApiOperation({ summary: 'Close a stream and free what it holds' })
  @ApiOkResponse({ type: StreamStateDto })
  close(@Param('id') id: string): StreamStateDto {
    return this.streaming.close(id);
  }
}
