import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { Db, Executor, Tx } from '../storage/database.js';
import type { IngestLogTables } from '../ingest-log/ingest-log.tables.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import {
  MARKER_TYPES,
  PAGE_VIEW,
  SESSION_END,
  compareSequenced,
  givenSessionKey,
  inferSessions,
  inferredSessionKey,
  type SequencedEvent,
  type SessionTail,
} from './session-inference.js';

export const DAY_MS = 86_400_000;

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

// 8 parameters a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
const EVENT_ROWS_PER_STATEMENT = 1000;
const PAIRS_PER_STATEMENT = 5000;
// 9 parameters a row.
const SESSION_ROWS_PER_STATEMENT = 2000;
// (user, session key) pairs per session-rebuild statement: 2 parameters each, 4 with the user and key lists.
const REBUILD_PAIRS_PER_STATEMENT = 2000;
const INFERRED_KEY_PREFIX = inferredSessionKey(0).slice(0, 2);
const LOG_IDS_PER_UPDATE = 5000;

/** One batch's figures for one session. */
interface SessionDelta {
  userId: string;
  key: string;
  startedAt: number;
  endedAt: number;
  events: number;
  actions: number;
  pageViews: number;
  closed: number;
}

function chunks<Item>(items: readonly Item[], size: number): Item[][] {
  const result: Item[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function addKey(affected: Map<string, Set<string>>, userId: string, key: string): void {
  let keys = affected.get(userId);
  if (!keys) affected.set(userId, (keys = new Set()));
  keys.add(key);
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

    const tails = await this.lastInferredSessions(trx, [...inferredByUser.keys()]);
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
      for (const key of await this.repairSessions(trx, userId, first)) addKey(rebuild, userId, key);
    }
    await this.addToSessions(trx, [...deltas.values()]);
    await this.rebuildSessions(trx, rebuild);
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

  /** Adds a batch's figures to its sessions' rows (creating those that are new). */
  private async addToSessions(trx: Tx<AnalyticsTables>, deltas: readonly SessionDelta[]): Promise<void> {
    const larger = (column: 'ended_at' | 'closed') =>
      sql<number>`case when excluded.${sql.ref(column)} > analytics_sessions.${sql.ref(column)} then excluded.${sql.ref(column)} else analytics_sessions.${sql.ref(column)} end`;
    for (const rows of chunks(deltas, SESSION_ROWS_PER_STATEMENT)) {
      await trx
        .insertInto('analytics_sessions')
        .values(
          rows.map((delta) => ({
            user_id: delta.userId,
            session_key: delta.key,
            inferred: delta.key.startsWith(INFERRED_KEY_PREFIX) ? 1 : 0,
            started_at: delta.startedAt,
            ended_at: delta.endedAt,
            events: delta.events,
            actions: delta.actions,
            page_views: delta.pageViews,
            closed: delta.closed,
          })),
        )
        .onConflict((conflict) =>
          conflict.columns(['user_id', 'session_key']).doUpdateSet({
            started_at: sql<number>`case when excluded.started_at < analytics_sessions.started_at then excluded.started_at else analytics_sessions.started_at end`,
            ended_at: larger('ended_at'),
            events: sql<number>`analytics_sessions.events + excluded.events`,
            actions: sql<number>`analytics_sessions.actions + excluded.actions`,
            page_views: sql<number>`analytics_sessions.page_views + excluded.page_views`,
            closed: larger('closed'),
          }),
        )
        .execute();
    }
  }

  /** The last inferred session of each user (null-free map entries only for users that have one). */
  private async lastInferredSessions(trx: Tx<AnalyticsTables>, userIds: readonly string[]): Promise<Map<string, SessionTail>> {
    const tails = new Map<string, SessionTail & { firstLogId: number }>();
    for (const users of chunks(userIds, 5000)) {
      const rows = await trx
        .selectFrom('analytics_sessions as s')
        .select(['s.user_id', 's.session_key', 's.started_at', 's.ended_at', 's.closed'])
        .where('s.user_id', 'in', users)
        .where('s.inferred', '=', 1)
        .where('s.started_at', '=', (eb) =>
          eb
            .selectFrom('analytics_sessions as m')
            .select((inner) => inner.fn.max('m.started_at').as('latest'))
            .whereRef('m.user_id', '=', 's.user_id')
            .where('m.inferred', '=', 1),
        )
        .execute();
      for (const row of rows) {
        // Sessions starting at the same millisecond: the later one's first event was ingested later.
        const firstLogId = Number(row.session_key.slice(2));
        const known = tails.get(row.user_id);
        if (known && known.firstLogId > firstLogId) continue;
        tails.set(row.user_id, {
          key: row.session_key,
          startedAt: Number(row.started_at),
          lastAt: Number(row.ended_at),
          closed: Number(row.closed) === 1,
          firstLogId,
        });
      }
    }
    return tails;
  }

  /**
   * Recomputes a user's inferred sessions from the start of the session that
   * holds the last stored event before `first` (or from the user's first event)
   * up to the user's latest event; returns the session keys that gained or lost
   * events.
   */
  private async repairSessions(trx: Tx<AnalyticsTables>, userId: string, first: SequencedEvent): Promise<Set<string>> {
    const before = await trx
      .selectFrom('analytics_events')
      .select('session_key')
      .where('user_id', '=', userId)
      .where('session_id', 'is', null)
      .where((eb) =>
        eb.or([
          eb('occurred_at', '<', first.occurredAt),
          eb.and([eb('occurred_at', '=', first.occurredAt), eb('log_id', '<', first.logId)]),
        ]),
      )
      .orderBy('occurred_at', 'desc')
      .orderBy('log_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    let query = trx
      .selectFrom('analytics_events')
      .select(['log_id', 'type', 'occurred_at', 'session_key'])
      .where('user_id', '=', userId)
      .where('session_id', 'is', null);
    if (before) {
      const start = await trx
        .selectFrom('analytics_events')
        .select(['occurred_at', 'log_id'])
        .where('user_id', '=', userId)
        .where('session_key', '=', before.session_key)
        .orderBy('occurred_at')
        .orderBy('log_id')
        .limit(1)
        .executeTakeFirstOrThrow();
      const startAt = Number(start.occurred_at);
      const startLogId = Number(start.log_id);
      query = query.where((eb) =>
        eb.or([eb('occurred_at', '>', startAt), eb.and([eb('occurred_at', '=', startAt), eb('log_id', '>=', startLogId)])]),
      );
    }
    const rows = await query.orderBy('occurred_at').orderBy('log_id').execute();
    const sequence = rows.map((row) => ({ logId: Number(row.log_id), type: row.type, occurredAt: Number(row.occurred_at) }));
    const keys = inferSessions(sequence, null);
    const touched = new Set<string>();
    const moves = new Map<string, number[]>();
    rows.forEach((row, index) => {
      const key = keys[index]!;
      if (key === row.session_key) return;
      touched.add(row.session_key);
      touched.add(key);
      const list = moves.get(key) ?? [];
      list.push(Number(row.log_id));
      moves.set(key, list);
    });
    for (const [key, logIds] of moves) {
      for (const ids of chunks(logIds, LOG_IDS_PER_UPDATE)) {
        await trx.updateTable('analytics_events').set({ session_key: key }).where('log_id', 'in', ids).execute();
      }
    }
    return touched;
  }

  /**
   * Rebuilds the session rows of these (user, key) pairs from their events; a
   * key that lost all its events loses its row. Pairs are matched exactly (row
   * values), so each statement probes the primary key once per pair.
   */
  async rebuildSessions(trx: Executor<AnalyticsTables>, affected: Map<string, Set<string>>): Promise<void> {
    const pairs: Array<[string, string]> = [];
    for (const [userId, keys] of affected) for (const key of keys) pairs.push([userId, key]);
    const markers = sql.join(MARKER_TYPES.map((type) => sql.lit(type)));
    for (const chunk of chunks(pairs, REBUILD_PAIRS_PER_STATEMENT)) {
      const exact = sql<boolean>`(user_id, session_key) in (values ${sql.join(chunk.map(([userId, key]) => sql`(${userId}, ${key})`))})`;
      const users = [...new Set(chunk.map(([userId]) => userId))];
      const keys = [...new Set(chunk.map(([, key]) => key))];
      await trx.deleteFrom('analytics_sessions').where(exact).execute();
      await trx
        .insertInto('analytics_sessions')
        .columns(['user_id', 'session_key', 'inferred', 'started_at', 'ended_at', 'events', 'actions', 'page_views', 'closed'])
        .expression((eb) =>
          eb
            .selectFrom('analytics_events')
            .select([
              'user_id',
              'session_key',
              sql<number>`max(case when session_id is null then 1 else 0 end)`.as('inferred'),
              sql<number>`min(occurred_at)`.as('started_at'),
              sql<number>`max(occurred_at)`.as('ended_at'),
              sql<number>`count(*)`.as('events'),
              sql<number>`sum(case when type not in (${markers}) then 1 else 0 end)`.as('actions'),
              sql<number>`sum(case when type = ${sql.lit(PAGE_VIEW)} then 1 else 0 end)`.as('page_views'),
              sql<number>`max(case when type = ${sql.lit(SESSION_END)} then 1 else 0 end)`.as('closed'),
            ])
            // The user list lets the database find the events by user; the pairs pick the sessions.
            .where('user_id', 'in', users)
            .where('session_key', 'in', keys)
            .where(exact)
            .groupBy(['user_id', 'session_key']),
        )
        .execute();
    }
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
    await this.rebuildSessions(trx, affected);
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
