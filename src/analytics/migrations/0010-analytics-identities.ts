import type { Kysely } from 'kysely';

/**
 * analytics_identities: an id (an anonymous id, an earlier id) joined to the person it belongs
 * to by an identify or alias event. The primary key finds a batch's ids; the index on user_id
 * finds a person's ids (erasure, and re-pointing when a person is itself joined to another).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('analytics_identities')
    .addColumn('alias_id', 'text', (column) => column.primaryKey())
    .addColumn('user_id', 'text', (column) => column.notNull())
    .addColumn('linked_at', 'bigint', (column) => column.notNull())
    .execute();
  await db.schema.createIndex('analytics_identities_user').on('analytics_identities').column('user_id').execute();
}
