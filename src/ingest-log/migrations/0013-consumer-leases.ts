import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/**
 * `consumer_leases`: which replica runs a consumer on a shared Postgres store: an *apply* consumer
 * (SLA, anomalies, analytics; see ApplyLease) and, since 0014, a destination's queue (queueLease).
 * SQLite has one process and never writes it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('consumer_leases')
    .addColumn('consumer', 'text', (column) => column.primaryKey())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('expires_at', types.bigint, (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('consumer_leases').execute();
}
