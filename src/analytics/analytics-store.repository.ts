import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { Db, Executor, Tx } from '../storage/database.js';
import type { IngestLogTables } from '../ingest-log/ingest-log.tables.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import { addKey, addToSessions, chunks, lastInferredSessions, rebuildSessions, repairSessions, type SessionDelta } from './analytics-sessions.statements.js';
import {
  MARKER_TYPES,
  PAGE_VIEW,
  SESSION_END,
  compareSequenced,
  givenSessionKey,
  inferSessions,
  inferredSessionKey,
  type SequencedEvent,
} from './session-inference.js';

export const DAY_MS = 86_400_000;

// 8 parameters a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
const EVENT_ROWS_PER_STATEMENT = 1000;
const PAIRS_PER_STATEMENT = 5000;

/** An event ready to store (privacy filtering done). */
export interface NewAnalyticsEvent {
  logId: number;
  userId: string;
  sessionId: string | null;
  type: string;
  page: string | null;
  properties: string | null;
  occurredAt: number;
}

/**
 * Writes of the analytics store: events, their sessions, user-days and
 * last-seen rows, always inside the caller's transaction (the consumer's batch,
 * an erasure, a retention pass).
 */
@Injectable()
export class AnalyticsStoreRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Db<AnalyticsTables>) {
    this.postgres = isPostgres(db);
  }

  /**
   * Stores a batch of events and brings every derived row up to date. Events
   * after a user's last inferred session (the usual case) are sessionised in
   * memory from that session's state, and their sessions' rows are updated by
   * adding the batch's figures (one upsert per chunk of sessions); a late event
   * that falls before it makes the user's inferred sessions be recomputed from
   * the session that precedes the event to the user's latest event, and that
   * user's touched sessions be rebuilt from their events.
   */
  async storeBatch(trx: Tx<AnalyticsTables>, batch: readonly NewAnalyticsEvent[]): Promise<void> {
    const events = await this.withoutStored(trx, batch);
    if (events.length === 0) return;
    const sessionKeys = new Map<number, string>();
    const inferredByUser = new Map<string, NewAnalyticsEvent[]>();
    for (const event of events) {
      if (event.sessionId !== null) sessionKeys.set(event.logId, givenSessionKey(event.sessionId));
      else {
        const list = inferredByUser.get(event.userId);
        if (list) list.push(event);
        else inferredByUser.set(event.userId, [event]);
      }
    }

    const tails = await lastInferredSessions(trx, [...inferredByUser.keys()]);
    const lateUsers: Array<{ userId: string; first: SequencedEvent }> = [];
    for (const [userId, list] of inferredByUser) {
      list.sort(compareSequenced);
      const tail = tails.get(userId) ?? null;
      if (tail === null || list[0]!.occurredAt >= tail.lastAt) {
        const keys = inferSessions(list, tail);
        list.forEach((event, index) => sessionKeys.set(event.logId, keys[index]!));
      } else {
        // Provisional keys (each event its own session); repairSessions assigns the real ones.
        for (const event of list) sessionKeys.set(event.logId, inferredSessionKey(event.logId));
        lateUsers.push({ userId, first: list[0]! });
      }
    }

    for (const rows of chunks(events, EVENT_ROWS_PER_STATEMENT)) {
      await trx
        .insertInto('analytics_events')
        .values(
          rows.map((event) => ({
            log_id: event.logId,
            user_id: event.userId,
            session_id: event.sessionId,
            session_key: sessionKeys.get(event.logId)!,
            type: event.type,
            page: event.page,
            properties: event.properties,
            occurred_at: event.occurredAt,
          })),
        )
        .execute();
    }

    // Late users' sessions are rebuilt from their events; everyone else's get the batch's figures added.
    const late = new Set(lateUsers.map((user) => user.userId));
    const rebuild = new Map<string, Set<string>>();
    const deltas = new Map<string, SessionDelta>();
    for (const event of events) {
      const key = sessionKeys.get(event.logId)!;
      if (late.has(event.userId)) {
        addKey(rebuild, event.userId, key);
        continue;
      }
      const id = `${event.userId}\u0000${key}`;
      let delta = deltas.get(id);
      if (!delta) {
        delta = { userId: event.userId, key, startedAt: event.occurredAt, endedAt: event.occurredAt, events: 0, actions: 0, pageViews: 0, closed: 0 };
        deltas.set(id, delta);
      }
      if (event.occurredAt < delta.startedAt) delta.startedAt = event.occurredAt;
      if (event.occurredAt > delta.endedAt) delta.endedAt = event.occurredAt;
      delta.events++;
      if (!MARKER_TYPES.includes(event.type)) delta.actions++;
      if (event.type === PAGE_VIEW) delta.pageViews++;
      if (event.type === SESSION_END) delta.closed = 1;
    }
    for (const { userId, first } of lateUsers) {
      for (const key of await repairSessions(trx, userId, first)) addKey(rebuild, userId, key);
    }
    await addToSessions(trx, [...deltas.values()]);
    await rebuildSessions(trx, rebuild);
    await this.recordActivity(trx, events);
  }

  /**
   * The events not stored yet. The consumer applies each log entry once, so
   * this is the whole batch in practice; a replayed entry must not be counted
   * twice in the session figures that storeBatch adds up.
   */
  private async withoutStored(trx: Tx<AnalyticsTables>, events: readonly NewAnalyticsEvent[]): Promise<readonly NewAnalyticsEvent[]> {
    if (events.length === 0) return events;
    let lowest = Infinity;
    let highest = -Infinity;
    for (const event of events) {
      if (event.logId < lowest) lowest = event.logId;
      if (event.logId > highest) highest = event.logId;
    }
    const stored = await trx.selectFrom('analytics_events').select('log_id').where('log_id', '>=', lowest).where('log_id', '<=', highest).execute();
    const unique = new Map<number, NewAnalyticsEvent>();
    for (const event of events) if (!unique.has(event.logId)) unique.set(event.logId, event);
    if (stored.length === 0 && unique.size === events.length) return events;
    for (const row of stored) unique.delete(Number(row.log_id));
    return [...unique.values()];
  }

  /** Rebuilds the session rows of these (user, key) pairs from their events (analytics-sessions.statements.ts). */
  async rebuildSessions(trx: Executor<AnalyticsTables>, affected: Map<string, Set<string>>): Promise<void> {
    await rebuildSessions(trx, affected);
  }

  /** User-days and last-seen rows. */
  private async recordActivity(trx: Tx<AnalyticsTables>, events: readonly NewAnalyticsEvent[]): Promise<void> {
    const days = new Map<string, { user_id: string; day: number }>();
    const lastSeen = new Map<string, number>();
    for (const event of events) {
      const day = Math.floor(event.occurredAt / DAY_MS);
      days.set(`${day}\u0000${event.userId}`, { user_id: event.userId, day });
      lastSeen.set(event.userId, Math.max(lastSeen.get(event.userId) ?? -Infinity, event.occurredAt));
    }
    for (const rows of chunks([...days.values()], PAIRS_PER_STATEMENT)) {
      await trx
        .insertInto('analytics_user_days')
        .values(rows)
        .onConflict((conflict) => conflict.columns(['user_id', 'day']).doNothing())
        .execute();
    }
    const seen = [...lastSeen].map(([user_id, last_seen]) => ({ user_id, last_seen }));
    for (const rows of chunks(seen, PAIRS_PER_STATEMENT)) {
      await trx
        .insertInto('analytics_users')
        .values(rows)
        .onConflict((conflict) =>
          conflict.column('user_id').doUpdateSet({
            last_seen: sql<number>`case when excluded.last_seen > analytics_users.last_seen then excluded.last_seen else analytics_users.last_seen end`,
          }),
        )
        .execute();
    }
  }

  /** Deletes every analytics row of the user; returns how many went. */
  async eraseUser(trx: Tx<AnalyticsTables>, userId: string): Promise<number> {
    let deleted = 0;
    for (const table of ['analytics_events', 'analytics_sessions', 'analytics_user_days', 'analytics_users'] as const) {
      const result = await trx.deleteFrom(table).where('user_id', '=', userId).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }

  /** Deletes up to `limit` events older than `cutoff`; returns how many went. */
  async deleteEventsBefore(trx: Tx<AnalyticsTables>, cutoff: number, limit: number): Promise<number> {
    const result = await trx
      .deleteFrom('analytics_events')
      .where('log_id', 'in', (eb) => eb.selectFrom('analytics_events').select('log_id').where('occurred_at', '<', cutoff).limit(limit))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * After old events went: drops sessions that ended before the cutoff,
   * rebuilds those that straddle it, drops user-days and last-seen rows that are
   * entirely older. Returns rows deleted.
   */
  async trimDerivedBefore(trx: Tx<AnalyticsTables>, cutoff: number): Promise<number> {
    const straddling = await trx
      .selectFrom('analytics_sessions')
      .select(['user_id', 'session_key'])
      .where('started_at', '<', cutoff)
      .where('ended_at', '>=', cutoff)
      .execute();
    let deleted = 0;
    const sessions = await trx.deleteFrom('analytics_sessions').where('ended_at', '<', cutoff).executeTakeFirst();
    deleted += Number(sessions.numDeletedRows);
    const affected = new Map<string, Set<string>>();
    for (const row of straddling) addKey(affected, row.user_id, row.session_key);
    await rebuildSessions(trx, affected);
    const days = await trx.deleteFrom('analytics_user_days').where('day', '<', Math.floor(cutoff / DAY_MS)).executeTakeFirst();
    deleted += Number(days.numDeletedRows);
    const users = await trx.deleteFrom('analytics_users').where('last_seen', '<', cutoff).executeTakeFirst();
    deleted += Number(users.numDeletedRows);
    return deleted;
  }

  /**
   * Holds the analytics consumer's position row until the transaction ends, so
   * that no consumer batch (on any replica) interleaves with an erasure or a
   * retention pass. SQLite has one writer: its transaction is lock enough.
   */
  async lockConsumer(trx: Tx<AnalyticsTables & IngestLogTables>, consumerName: string): Promise<void> {
    if (!this.postgres) return;
    await trx.selectFrom('consumer_positions').select('position').where('consumer', '=', consumerName).forUpdate().execute();
  }

  get database(): Db<AnalyticsTables> {
    return this.db;
  }
}
