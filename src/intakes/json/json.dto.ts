import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { keyStringProblem } from '../../common/key-string.js';
import { ItemErrorDto } from '../../common/error.dto.js';
import { LIMITS, METRIC_NAME, parseTimestamp } from '../../ingest/ingest.validation.js';

/**
 * The JSON intake's request bodies as class-validator DTOs: the definition of what each
 * endpoint accepts and the source of the OpenAPI schemas. Items are validated at run
 * time by the compiled checkers in src/ingest/ingest.validation.ts, which a test
 * (json.dto.spec.ts) holds to the same verdicts as these classes.
 */

function IsTimestamp(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTimestamp',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be epoch milliseconds or an ISO 8601 string, from 2000-01-01 to 10 minutes ahead`, ...options },
      validator: {
        validate(value: unknown) {
          try {
            parseTimestamp(value, propertyName, { now: Date.now() });
            return true;
          } catch {
            return false;
          }
        },
      },
    });
}

/** A string that may become a key, an id or report text: well-formed Unicode, no control characters. */
function IsKeyString(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isKeyString',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be well-formed Unicode without control characters`, ...options },
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || keyStringProblem(value) === null,
      },
    });
}

function IsTags(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isTags',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a flat object of at most ${LIMITS.maxTags} string values`, ...options },
      validator: {
        validate(value: unknown) {
          if (value === undefined || value === null) return true;
          if (typeof value !== 'object' || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          return (
            entries.length <= LIMITS.maxTags &&
            entries.every(
              ([key, tag]) =>
                key.length >= 1 &&
                key.length <= LIMITS.tagKeyLength &&
                keyStringProblem(key) === null &&
                typeof tag === 'string' &&
                tag.length <= LIMITS.tagValueLength &&
                keyStringProblem(tag) === null,
            )
          );
        },
      },
    });
}

function IsBoundedObject(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isBoundedObject',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be an object nested at most ${LIMITS.objectDepth} levels`, ...options },
      validator: {
        validate(value: unknown) {
          const depth = (node: unknown): number =>
            typeof node === 'object' && node !== null ? 1 + Math.max(0, ...Object.values(node).map(depth)) : 0;
          return typeof value === 'object' && value !== null && !Array.isArray(value) && depth(value) <= LIMITS.objectDepth;
        },
      },
    });
}

const TIMESTAMP_DOC = {
  description:
    'Epoch milliseconds (not seconds) or a strict ISO 8601 date-time; defaults to the time of receipt; from 2000-01-01 to at most ' +
    '10 minutes in the future; analytics events no older than the analytics retention',
  oneOf: [{ type: 'number' }, { type: 'string', format: 'date-time' }],
  example: 1767225600000,
};
const TAGS_DOC = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: 'At most 32 keys; keys and values well-formed Unicode without control characters',
  example: { endpoint: '/users' },
} as const;
/** Names, ids and tags hold no control characters (nor lone surrogates, which a pattern cannot say). */
const KEY_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F]*$';

export class MetricDto {
  @ApiProperty({ pattern: METRIC_NAME.source, example: 'api.response_time' })
  @IsString() @Matches(METRIC_NAME)
  name!: string;

  @ApiProperty({ example: 12.5, description: 'A finite number', minimum: -LIMITS.maxMetricMagnitude, maximum: LIMITS.maxMetricMagnitude })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(-LIMITS.maxMetricMagnitude) @Max(LIMITS.maxMetricMagnitude)
  value!: number;

  @ApiPropertyOptional({ enum: ['gauge', 'count', 'distribution'], default: 'gauge' })
  @IsOptional() @IsIn(['gauge', 'count', 'distribution'])
  type?: string;

  @ApiPropertyOptional(TIMESTAMP_DOC)
  @IsOptional() @IsTimestamp()
  timestamp?: number | string;

  @ApiPropertyOptional(TAGS_DOC)
  @IsOptional() @IsTags()
  tags?: Record<string, string>;

  @ApiPropertyOptional({ maxLength: LIMITS.unitLength, pattern: KEY_PATTERN, example: 'ms' })
  @IsOptional() @IsString() @Length(1, LIMITS.unitLength) @IsKeyString()
  unit?: string;
}

export class EventDto {
  @ApiProperty({ minLength: 1, maxLength: LIMITS.titleLength, example: 'Deploy finished' })
  @IsString() @Length(1, LIMITS.titleLength)
  title!: string;

  @ApiPropertyOptional({ maxLength: LIMITS.textLength })
  @IsOptional() @IsString() @MaxLength(LIMITS.textLength)
  text?: string;

  @ApiPropertyOptional({ enum: ['info', 'warning', 'error', 'success'], default: 'info' })
  @IsOptional() @IsIn(['info', 'warning', 'error', 'success'])
  alertType?: string;

  @ApiPropertyOptional(TAGS_DOC)
  @IsOptional() @IsTags()
  tags?: Record<string, string>;

  @ApiPropertyOptional(TIMESTAMP_DOC)
  @IsOptional() @IsTimestamp()
  timestamp?: number | string;

  @ApiPropertyOptional({ maxLength: LIMITS.sourceLength, pattern: KEY_PATTERN })
  @IsOptional() @IsString() @Length(1, LIMITS.sourceLength) @IsKeyString()
  source?: string;
}

export class LogDto {
  @ApiProperty({ minLength: 1, maxLength: LIMITS.messageLength })
  @IsString() @Length(1, LIMITS.messageLength)
  message!: string;

  @ApiPropertyOptional({ enum: ['debug', 'info', 'warn', 'error', 'fatal'], default: 'info' })
  @IsOptional() @IsIn(['debug', 'info', 'warn', 'error', 'fatal'])
  level?: string;

  @ApiPropertyOptional(TIMESTAMP_DOC)
  @IsOptional() @IsTimestamp()
  timestamp?: number | string;

  @ApiPropertyOptional({ maxLength: LIMITS.serviceLength, pattern: KEY_PATTERN })
  @IsOptional() @IsString() @Length(1, LIMITS.serviceLength) @IsKeyString()
  service?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Free-form, nested at most 8 levels' })
  @IsOptional() @IsBoundedObject()
  attributes?: Record<string, unknown>;

  @ApiPropertyOptional({ maxLength: LIMITS.identifierLength, pattern: KEY_PATTERN })
  @IsOptional() @IsString() @Length(1, LIMITS.identifierLength) @IsKeyString()
  traceId?: string;

  @ApiPropertyOptional({ maxLength: LIMITS.identifierLength, pattern: KEY_PATTERN })
  @IsOptional() @IsString() @Length(1, LIMITS.identifierLength) @IsKeyString()
  requestId?: string;

  @ApiPropertyOptional({ maxLength: LIMITS.identifierLength, pattern: KEY_PATTERN })
  @IsOptional() @IsString() @Length(1, LIMITS.identifierLength) @IsKeyString()
  userId?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: LIMITS.maxDurationMs })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(LIMITS.maxDurationMs)
  durationMs?: number;
}

export class RequestRecordDto {
  @ApiProperty({ maxLength: LIMITS.serviceLength, pattern: KEY_PATTERN, example: 'api' })
  @IsString() @Length(1, LIMITS.serviceLength) @IsKeyString()
  service!: string;

  @ApiPropertyOptional({ maxLength: LIMITS.operationLength, pattern: KEY_PATTERN, example: 'GET /users' })
  @IsOptional() @IsString() @Length(1, LIMITS.operationLength) @IsKeyString()
  operation?: string;

  @ApiProperty({ minimum: 0, maximum: LIMITS.maxDurationMs, example: 123.4 })
  @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(LIMITS.maxDurationMs)
  durationMs!: number;

  @ApiPropertyOptional({ minimum: 100, maximum: 599, description: 'When given, success is statusCode < 500' })
  @IsOptional() @IsInt() @Min(100) @Max(599)
  statusCode?: number;

  @ApiPropertyOptional({ description: 'Used when statusCode is absent; defaults to true' })
  @IsOptional() @IsBoolean()
  success?: boolean;

  @ApiPropertyOptional(TIMESTAMP_DOC)
  @IsOptional() @IsTimestamp()
  timestamp?: number | string;
}

export class AnalyticsEventDto {
  @ApiProperty({ maxLength: LIMITS.identifierLength, pattern: KEY_PATTERN, example: 'u1' })
  @IsString() @Length(1, LIMITS.identifierLength) @IsKeyString()
  userId!: string;

  @ApiPropertyOptional({ maxLength: LIMITS.identifierLength, pattern: KEY_PATTERN, description: 'Inferred from 30 minutes of inactivity when absent' })
  @IsOptional() @IsString() @Length(1, LIMITS.identifierLength) @IsKeyString()
  sessionId?: string;

  @ApiProperty({ maxLength: LIMITS.typeLength, pattern: KEY_PATTERN, example: 'page_view', description: 'session_start, session_end, page_view or any action name' })
  @IsString() @Length(1, LIMITS.typeLength) @IsKeyString()
  type!: string;

  @ApiPropertyOptional({ maxLength: LIMITS.pageLength, pattern: KEY_PATTERN, example: '/pricing', description: 'Required when type is page_view' })
  @ValidateIf((event: AnalyticsEventDto) => event.type === 'page_view' || (event.page !== undefined && event.page !== null))
  @IsString() @Length(1, LIMITS.pageLength) @IsKeyString()
  page?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Free-form, nested at most 8 levels' })
  @IsOptional() @IsObject() @IsBoundedObject()
  properties?: Record<string, unknown>;

  @ApiPropertyOptional(TIMESTAMP_DOC)
  @IsOptional() @IsTimestamp()
  timestamp?: number | string;
}

export class MetricsBatchDto {
  @ApiProperty({ type: [MetricDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => MetricDto)
  metrics!: MetricDto[];
}
export class EventsBatchDto {
  @ApiProperty({ type: [EventDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => EventDto)
  events!: EventDto[];
}
export class LogsBatchDto {
  @ApiProperty({ type: [LogDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => LogDto)
  logs!: LogDto[];
}
export class RequestsBatchDto {
  @ApiProperty({ type: [RequestRecordDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => RequestRecordDto)
  requests!: RequestRecordDto[];
}
export class AnalyticsBatchDto {
  @ApiProperty({ type: [AnalyticsEventDto] }) @IsArray() @ValidateNested({ each: true }) @Type(() => AnalyticsEventDto)
  events!: AnalyticsEventDto[];
}

export class IngestResultDto {
  @ApiProperty() accepted!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty({ type: [ItemErrorDto], description: 'At most 100' }) errors!: ItemErrorDto[];
}
