import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/**
 * Tables of the analytics module. Indexes, and the queries they serve:
 * - analytics_events (user_id, type, occurred_at): a user's events, funnel step
 *   look-ups (next event of a type after a time), features report (scanned in
 *   user/type order), erasure. SQLite appends the rowid (= log_id), so the
 *   index also orders events sharing a timestamp.
 * - analytics_events (type, page, user_id, occurred_at), covering: one type's
 *   events without reading the table — the pages report (streamed in page/user
 *   order) and the funnel's per-step scans.
 * - analytics_events (occurred_at): from/to ranges, retention by age.
 * - analytics_sessions (user_id, inferred, started_at): a user's last inferred
 *   session when new events arrive; (started_at): the sessions report.
 * - analytics_user_days (day, user_id): active users and retention by day ranges.
 * - analytics_users (last_seen): vigil_active_users.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('analytics_events')
    // On SQLite an INTEGER PRIMARY KEY is the rowid itself: no separate index.
    .addColumn('log_id', types.postgres ? 'bigint' : 'integer', (column) => column.primaryKey())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('session_id', 'text')
    .addColumn('session_key', 'text', (column) => column.notNull())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('page', 'text')
    .addColumn('properties', 'text')
    .addColumn('occurred_at', types.bigint, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('analytics_events_user_type_time').on('analytics_events').columns(['user_id', 'type', 'occurred_at']).execute();
  await db.schema
    .createIndex('analytics_events_type_page_user_time')
    .on('analytics_events')
    .columns(['type', 'page', 'user_id', 'occurred_at'])
    .execute();
  await db.schema.createIndex('analytics_events_time').on('analytics_events').column('occurred_at').execute();

  await db.schema
    .createTable('analytics_sessions')
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('session_key', 'text', (column) => column.notNull())
    .addColumn('inferred', 'integer', (column) => column.notNull())
    .addColumn('started_at', types.bigint, (column) => column.notNull())
    .addColumn('ended_at', types.bigint, (column) => column.notNull())
    .addColumn('events', 'integer', (column) => column.notNull())
    .addColumn('actions', 'integer', (column) => column.notNull())
    .addColumn('page_views', 'integer', (column) => column.notNull())
    .addColumn('closed', 'integer', (column) => column.notNull())
    .addPrimaryKeyConstraint('analytics_sessions_pk', ['user_id', 'session_key'])
    .execute();
  await db.schema.createIndex('analytics_sessions_user_tail').on('analytics_sessions').columns(['user_id', 'inferred', 'started_at']).execute();
  await db.schema.createIndex('analytics_sessions_start').on('analytics_sessions').column('started_at').execute();

  await db.schema
    .createTable('analytics_user_days')
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('day', 'integer', (column) => column.notNull())
    .addPrimaryKeyConstraint('analytics_user_days_pk', ['user_id', 'day'])
    .execute();
  await db.schema.createIndex('analytics_user_days_day').on('analytics_user_days').columns(['day', 'user_id']).execute();

  await db.schema
    .createTable('analytics_users')
    .addColumn('user_id', 'text', (column) => column.primaryKey())
    .addColumn('last_seen', types.bigint, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('analytics_users_last_seen').on('analytics_users').column('last_seen').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('analytics_users').execute();
  await db.schema.dropTable('analytics_user_days').execute();
  await db.schema.dropTable('analytics_sessions').execute();
  await db.schema.dropTable('analytics_events').execute();
}
