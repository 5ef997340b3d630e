import { Injectable } from '@nestjs/common';
import type { AnalyticsItem } from '../ingest-log/ingest-log.items.js';
import type { Tx } from '../storage/database.js';
import type { LogEntry } from '../ingest-log/log-entry.js';
import type { DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import { AnalyticsMetrics } from './analytics.metrics.js';
import { AnalyticsIdentitiesRepository } from './analytics-identities.repository.js';
import { AnalyticsStoreRepository, type NewAnalyticsEvent } from './analytics-store.repository.js';
import { storableProperties } from './event-privacy.js';

export const ANALYTICS_CONSUMER = 'analytics';

/** Event types that join an id to a person, and the property that names the id. */
const JOINING_TYPES: Record<string, string> = { identify: 'anonymousId', alias: 'previousId' };

/** The id an identify or alias item joins to its user, if it names one other than the user. */
export function joinedId(item: AnalyticsItem): string | undefined {
  const property = JOINING_TYPES[item.type];
  const id = property === undefined ? undefined : item.properties?.[property];
  return typeof id === 'string' && id.length > 0 && id !== item.userId ? id : undefined;
}

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
    private readonly identities: AnalyticsIdentitiesRepository,
    private readonly metrics: AnalyticsMetrics,
  ) {}

  /**
   * Stores the batch's events under the person each user id belongs to. An identify or alias
   * event joins an id (an anonymous id, an earlier id) to its user's person: the link is kept,
   * what was stored under the id becomes the person's, and the batch's events of the id are
   * stored under the person, whether they come before or after the joining event.
   */
  async apply(entries: Array<LogEntry<'analytics'>>, trx: Tx): Promise<void> {
    const events: NewAnalyticsEvent[] = [];
    const joins: Array<{ alias: string; user: string; at: number }> = [];
    for (const entry of entries) {
      const event = toStoredEvent(entry);
      if (!event) continue;
      events.push(event);
      const alias = joinedId(entry.payload);
      if (alias !== undefined) joins.push({ alias, user: event.userId, at: event.occurredAt });
    }
    const ids = new Set(events.map((event) => event.userId));
    for (const { alias } of joins) ids.add(alias);
    const persons = ids.size === 0 ? new Map<string, string>() : await this.identities.personsOf(trx, [...ids]);
    const personOf = (id: string): string => {
      // Links are stored flat (an id points at a person, never at another id); within the batch a
      // person may be joined to another after their own links were read: follow at most a few steps.
      let current = id;
      for (let step = 0; step < 8 && persons.has(current); step++) current = persons.get(current)!;
      return current;
    };
    for (const { alias, user, at } of joins) {
      const person = personOf(user);
      // An id already joined to a person stays with that person (the first join wins).
      if (personOf(alias) === person || persons.has(alias)) continue;
      await this.identities.join(trx, alias, person, at);
      for (const [id, joinedTo] of persons) if (joinedTo === alias) persons.set(id, person);
      persons.set(alias, person);
    }
    for (const event of events) event.userId = personOf(event.userId);
    await this.store.storeBatch(trx, events);
  }

  afterCommit(entries: Array<LogEntry<'analytics'>>): void {
    this.metrics.eventsStored.inc(entries.length);
  }
}
