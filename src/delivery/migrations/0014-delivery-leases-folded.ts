import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/**
 * Destinations' queues hold their lease in `consumer_leases` (as `delivery:<name>`, the name of their
 * position), like the apply consumers: `delivery_leases` goes. Its rows are leases of a few seconds,
 * so nothing is carried over: a queue is taken again on the first poll after the upgrade. A replica
 * still running the previous version fails to renew its lease once this has run, and its commit
 * rolls back; what it had sent is sent again by the new holder (at least once, as after a crash).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('delivery_leases').ifExists().execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('delivery_leases')
    .addColumn('destination', 'text', (column) => column.primaryKey())
    .addColumn('owner', 'text', (column) => column.notNull())
    .addColumn('expires_at', types.bigint, (column) => column.notNull())
    .execute();
}
