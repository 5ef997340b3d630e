import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/**
 * Tables of the delivery module.
 *
 * `delivery_dead_letters`: items a destination refused for good (rejected as
 * invalid, too large alone, older than it accepts). Each row belongs to exactly
 * one destination, so a replay goes back to that destination only.
 * `delivery_leases`: which replica currently runs a destination's queue (on a
 * shared Postgres store several replicas start every queue; one sends); dropped by
 * 0014 (the queues' leases are rows of `consumer_leases`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('delivery_dead_letters')
    .addColumn('id', types.serialId, (column) => (types.postgres ? column.primaryKey() : column.primaryKey().autoIncrement()))
    .addColumn('destination', 'text', (column) => column.notNull())
    .addColumn('log_id', types.bigint, (column) => column.notNull())
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('event_time', types.bigint, (column) => column.notNull())
    .addColumn('received_at', types.bigint, (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('payload', 'text', (column) => column.notNull())
    .addColumn('reason', 'text', (column) => column.notNull())
    .addColumn('status', 'integer')
    .addColumn('detail', 'text', (column) => column.notNull())
    .addColumn('dead_lettered_at', types.bigint, (column) => column.notNull())
    .addColumn('replay_requested', 'integer', (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('delivery_dead_letters_destination_reason').on('delivery_dead_letters').columns(['destination', 'reason']).execute();
  await db.schema
    .createIndex('delivery_dead_letters_replay')
    .on('delivery_dead_letters')
    .columns(['destination', 'replay_requested'])
    .execute();
  await db.schema
    .createIndex('delivery_dead_letters_user_id')
    .on('delivery_dead_letters')
    .column('user_id')
    .where(sql.ref('user_id'), 'is not', null)
    .execute();
  await db.schema
    .createTable('delivery_leases')
    .addColumn('destination', 'text', (column) => column.primaryKey())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('expires_at', types.bigint, (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delivery_leases').execute();
  await db.schema.dropTable('delivery_dead_letters').execute();
}
