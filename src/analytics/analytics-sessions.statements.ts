import { sql } from 'kysely';
import type { Executor, Tx } from '../storage/database.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { MARKER_TYPES, PAGE_VIEW, SESSION_END, inferSessions, inferredSessionKey, type SequencedEvent, type SessionTail } from './session-inference.js';

/**
 * The statements that keep analytics_sessions up to date, inside the caller's transaction: a
 * batch's figures added to its sessions, the users' last inferred sessions, the repair of a
 * user's inferred sessions after a late event, and the rebuild of sessions from their events.
 * AnalyticsStoreRepository (analytics-store.repository.ts) decides which a batch needs.
 */

// 9 parameters a row.
const SESSION_ROWS_PER_STATEMENT = 2000;
// (user, session key) pairs per session-rebuild statement: 2 parameters each, 4 with the user and key lists.
const REBUILD_PAIRS_PER_STATEMENT = 2000;
const INFERRED_KEY_PREFIX = inferredSessionKey(0).slice(0, 2);
const LOG_IDS_PER_UPDATE = 5000;

/** One batch's figures for one session. */
export interface SessionDelta {
  userId: string;
  key: string;
  startedAt: number;
  endedAt: number;
  events: number;
  actions: number;
  pageViews: number;
  closed: number;
}

/** `items` in slices of at most `size`. */
export function chunks<Item>(items: readonly Item[], size: number): Item[][] {
  const result: Item[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/** Adds `key` to the user's set in `affected`. */
export function addKey(affected: Map<string, Set<string>>, userId: string, key: string): void {
  let keys = affected.get(userId);
  if (!keys) affected.set(userId, (keys = new Set()));
  keys.add(key);
}

/** Adds a batch's figures to its sessions' rows (creating those that are new). */
export async function addToSessions(trx: Tx<AnalyticsTables>, deltas: readonly SessionDelta[]): Promise<void> {
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
export async function lastInferredSessions(trx: Tx<AnalyticsTables>, userIds: readonly string[]): Promise<Map<string, SessionTail>> {
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
export async function repairSessions(trx: Tx<AnalyticsTables>, userId: string, first: SequencedEvent): Promise<Set<string>> {
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
export async function rebuildSessions(trx: Executor<AnalyticsTables>, affected: Map<string, Set<string>>): Promise<void> {
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
