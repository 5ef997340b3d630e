import { ApiProperty } from '@nestjs/swagger';
import type { Type } from '@nestjs/common';
import { ItemErrorDto } from '../../common/error.dto.js';
import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import { documentedFields } from '../../ingest/item-openapi.js';

/**
 * The JSON intake's request bodies, for the OpenAPI document only: each item schema is made
 * from its kind's shape (src/ingest-log/ingest-log.items.ts), the same declaration ingest
 * validates with, so the document cannot drift from what is accepted. Bodies are not
 * validated through these classes (ingest validates item by item).
 */

/** A class named `name` whose Swagger properties are `kind`'s documented fields. */
function itemDto(kind: IngestKind, name: string): Type<unknown> {
  const dto = { [name]: class {} }[name]!;
  for (const field of documentedFields(kind)) {
    // A schema without a type (the timestamp's oneOf) is given Object, as a decorated `number | string` property was.
    const type = field.schema['type'] === undefined ? { type: Object } : {};
    ApiProperty({ ...field.schema, ...type, required: field.required } as Parameters<typeof ApiProperty>[0])(dto.prototype, field.name);
  }
  return dto;
}

// The component names are those of the document before the shapes existed; clients may refer to them.
export const MetricDto = itemDto('metric', 'MetricDto');
export const EventDto = itemDto('event', 'EventDto');
export const LogDto = itemDto('log', 'LogDto');
export const RequestRecordDto = itemDto('request', 'RequestRecordDto');
export const AnalyticsEventDto = itemDto('analytics', 'AnalyticsEventDto');

export class MetricsBatchDto {
  @ApiProperty({ type: [MetricDto] }) metrics!: unknown[];
}
export class EventsBatchDto {
  @ApiProperty({ type: [EventDto] }) events!: unknown[];
}
export class LogsBatchDto {
  @ApiProperty({ type: [LogDto] }) logs!: unknown[];
}
export class RequestsBatchDto {
  @ApiProperty({ type: [RequestRecordDto] }) requests!: unknown[];
}
export class AnalyticsBatchDto {
  @ApiProperty({ type: [AnalyticsEventDto] }) events!: unknown[];
}

export class IngestResultDto {
  @ApiProperty() accepted!: number;
  @ApiProperty() rejected!: number;
  @ApiProperty({ type: [ItemErrorDto], description: 'At most 100' }) errors!: ItemErrorDto[];
}
