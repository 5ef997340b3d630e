import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One refused item of a batch. */
export class ItemErrorDto {
  @ApiProperty() index!: number;
  @ApiProperty({ example: 'metrics[3].value must be a finite number' }) message!: string;
}

/** Vigil's error body (ErrorBody in error.filter.ts): every 4xx and 5xx answer but a failed health check. */
export class ErrorDto {
  @ApiProperty({ example: 400 }) status_code!: number;
  @ApiProperty({ example: 'Bad Request', description: "The status code's reason phrase" }) error!: string;
  @ApiProperty() message!: string;
  @ApiProperty({ description: 'The X-Request-Id of the answer, to quote in a report' }) request_id!: string;
  @ApiPropertyOptional({ type: [ItemErrorDto], description: 'Per-item problems, when a whole batch was refused' }) errors?: ItemErrorDto[];
}
