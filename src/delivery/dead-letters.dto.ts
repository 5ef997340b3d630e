import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { StoredDeadLetter } from './delivery.repository.js';
import { DEAD_LETTER_REASONS } from './delivery.tables.js';
import type { DeadLetterListing } from './delivery.service.js';
import { DESTINATION_NAMES } from './destinations.list.js';

export class DeadLetterCountDto {
  @ApiProperty({ enum: DESTINATION_NAMES }) destination!: string;
  @ApiProperty({ enum: DEAD_LETTER_REASONS }) reason!: string;
  @ApiProperty() count!: number;
}

export class DeadLetterDto {
  @ApiProperty() id!: number;
  @ApiProperty({ enum: DESTINATION_NAMES }) destination!: string;
  @ApiProperty({ enum: ['metric', 'event', 'log', 'request', 'analytics'] }) kind!: string;
  @ApiProperty({ enum: DEAD_LETTER_REASONS, description: 'rejected: the destination refused it; expired: older than it accepts; too_large: over its size limit alone' })
  reason!: string;
  @ApiPropertyOptional({ type: Number, nullable: true, description: "The destination's HTTP status, when there was one" }) status!: number | null;
  @ApiProperty({ description: "The destination's answer or Vigil's reason" }) detail!: string;
  @ApiProperty({ description: 'Id the item had in the ingest log' }) log_id!: number;
  @ApiProperty({ description: "The item's own timestamp, ISO 8601" }) event_time!: string;
  @ApiProperty() received_at!: string;
  @ApiProperty() dead_lettered_at!: string;
  @ApiProperty({ description: 'True while a replay is pending' }) replay_pending!: boolean;
  @ApiProperty({ description: 'The item as Vigil stored it', type: Object }) item!: unknown;
}

export class DeadLetterListDto {
  @ApiProperty({ description: 'Dead letters matching the filter' }) total!: number;
  @ApiProperty({ type: [DeadLetterCountDto] }) counts!: DeadLetterCountDto[];
  @ApiProperty({ type: [DeadLetterDto] }) items!: DeadLetterDto[];
  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Pass as `after` for the next page; null on the last' }) next_after!: number | null;
}

export class ReplayRequestDto {
  @ApiPropertyOptional({ enum: DESTINATION_NAMES }) destination?: string;
  @ApiPropertyOptional({ enum: DEAD_LETTER_REASONS }) reason?: string;
  @ApiPropertyOptional({ type: [Number], description: 'Only these dead letters' }) ids?: number[];
}

export class ReplayResultDto {
  @ApiProperty({ description: 'Dead letters flagged; each is sent again to the destination that refused it' }) replay_requested!: number;
}

export class PurgeResultDto {
  @ApiProperty() purged!: number;
}

export function deadLetterListDto(listing: DeadLetterListing): DeadLetterListDto {
  return { total: listing.total, counts: listing.counts, items: listing.items.map(deadLetterDto), next_after: listing.nextAfter };
}

function deadLetterDto(letter: StoredDeadLetter): DeadLetterDto {
  let item: unknown;
  try {
    item = JSON.parse(letter.payload);
  } catch {
    item = letter.payload;
  }
  return {
    id: letter.id,
    destination: letter.destination,
    kind: letter.kind,
    reason: letter.reason,
    status: letter.status,
    detail: letter.detail,
    log_id: letter.logId,
    event_time: new Date(letter.eventTime).toISOString(),
    received_at: new Date(letter.receivedAt).toISOString(),
    dead_lettered_at: new Date(letter.deadLetteredAt).toISOString(),
    replay_pending: letter.replayRequested,
    item,
  };
}
