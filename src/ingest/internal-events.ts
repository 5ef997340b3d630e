import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { IngestLogTables } from '../ingest-log/ingest-log.tables.js';
import type { Tx } from '../storage/database.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import type { EventItem } from '../ingest-log/ingest-log.items.js';

/**
 * Events Vigil raises itself (an SLA going from meeting to violated, a detected
 * anomaly). They are appended to the ingest log inside the caller's transaction,
 * so they commit exactly when the state that caused them does, and the delivery
 * core forwards them to the APM destinations like any ingested event.
 */
@Injectable()
export class InternalEvents {
  constructor(
    private readonly log: IngestLogRepository,
    private readonly clock: Clock,
  ) {}

  async append(trx: Tx<IngestLogTables>, events: readonly EventItem[]): Promise<void> {
    if (events.length === 0) return;
    const entries = events.map((event) => ({
      kind: 'event' as const,
      eventTime: event.timestamp,
      userId: null,
      item: { ...event, source: event.source ?? 'vigil' },
    }));
    await this.log.append(trx, entries, this.clock.now());
  }
}
