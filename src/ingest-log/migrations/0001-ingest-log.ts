import { sql, type Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('ingest_log')
    .addColumn('id', types.serialId, (column) => (types.postgres ? column.primaryKey() : column.primaryKey().autoIncrement()))
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('received_at', types.bigint, (column) => column.notNull())
    .addColumn('event_time', types.bigint, (column) => column.notNull())
    .addColumn('user_id', 'text')
    .addColumn('payload', 'text', (column) => column.notNull())
    .execute();
  // Only rows that name a user are indexed, so the index costs metric ingest nothing.
  await db.schema
    .createIndex('ingest_log_user_id')
    .on('ingest_log')
    .column('user_id')
    .where(sql.ref('user_id'), 'is not', null)
    .execute();
  await db.schema
    .createTable('consumer_positions')
    .addColumn('consumer', 'text', (column) => column.primaryKey())
    .addColumn('position', types.bigint, (column) => column.notNull())
    .addColumn('updated_at', types.bigint, (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('consumer_positions').execute();
  await db.schema.dropTable('ingest_log').execute();
}
