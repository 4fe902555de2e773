import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString } from 'class-validator';

/** The body of POST /predict, the original contract. */
export class PredictRequestDto {
  @ApiProperty({ description: 'The text to moderate, as a user prompt.', example: '测试内容安全性', minLength: 1 })
  @IsNotEmpty()
  @IsString()
  text!: string;
}
