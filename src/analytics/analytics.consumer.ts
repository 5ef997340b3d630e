import { Injectable } from '@nestjs/common';
import type { AnalyticsItem } from '../ingest-log/ingest-log.items.js';
import type { Tx } from '../storage/database.js';
import type { LogEntry } from '../ingest-log/log-entry.js';
import type { DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import { AnalyticsMetrics } from './analytics.metrics.js';
import { AnalyticsStoreRepository, type NewAnalyticsEvent } from './analytics-store.repository.js';
import { storableProperties } from './event-privacy.js';

export const ANALYTICS_CONSUMER = 'analytics';

/** The stored form of an ingest-log analytics item, or null if the payload is not one. */
export function toStoredEvent(entry: LogEntry<'analytics'>): NewAnalyticsEvent | null {
  const item: Partial<AnalyticsItem> | null = entry.payload;
  if (!item || typeof item.userId !== 'string' || typeof item.type !== 'string') return null;
  const occurredAt = typeof item.timestamp === 'number' && Number.isFinite(item.timestamp) ? Math.trunc(item.timestamp) : entry.eventTime;
  return {
    logId: entry.id,
    userId: item.userId,
    sessionId: typeof item.sessionId === 'string' ? item.sessionId : null,
    type: item.type,
    page: typeof item.page === 'string' ? item.page : null,
    properties: storableProperties(item.properties),
    occurredAt,
  };
}

/**
 * Applies analytics items of the ingest log to the analytics store inside the
 * batch transaction that advances the consumer's position: each item is stored
 * exactly once, with its session and derived rows. It keeps no in-memory state.
 */
@Injectable()
export class AnalyticsConsumer implements DerivedStateConsumer<'analytics'> {
  readonly name = ANALYTICS_CONSUMER;
  readonly kinds = ['analytics'] as const;
  readonly batchSize = 5000;

  constructor(
    private readonly store: AnalyticsStoreRepository,
    private readonly metrics: AnalyticsMetrics,
  ) {}

  async apply(entries: Array<LogEntry<'analytics'>>, trx: Tx): Promise<void> {
    const events: NewAnalyticsEvent[] = [];
    for (const entry of entries) {
      const event = toStoredEvent(entry);
      if (event) events.push(event);
    }
    await this.store.storeBatch(trx, events);
  }

  afterCommit(entries: Array<LogEntry<'analytics'>>): void {
    this.metrics.eventsStored.inc(entries.length);
  }
}
