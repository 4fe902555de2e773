import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ErrorCode } from '../error-code';

/** The body of every error response, whatever produced the error. */
export class ErrorResponseDto {
  @ApiProperty({ example: 400, description: 'The HTTP status, repeated for clients that only see the body.' })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request', description: 'The status reason phrase.' })
  error!: string;

  @ApiProperty({ enum: ErrorCode, enumName: 'ErrorCode', example: ErrorCode.ValidationFailed })
  code!: ErrorCode;

  @ApiProperty({ example: 'text must be a string', description: 'What went wrong; never echoes the submitted text.' })
  message!: string;

  @ApiPropertyOptional({ example: 'text', description: 'The request property at fault, as a dotted path.' })
  field?: string;
}
