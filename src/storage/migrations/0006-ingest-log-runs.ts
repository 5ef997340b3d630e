import type { Kysely } from 'kysely';

/**
 * An ingest-log row holds a run of consecutive entries (see IngestLogTable). Rows written
 * before this migration hold one entry each, which is what the defaults say.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ingest_log').addColumn('entry_count', 'integer', (column) => column.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('ingest_log').addColumn('event_times', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ingest_log').dropColumn('event_times').execute();
  await db.schema.alterTable('ingest_log').dropColumn('entry_count').execute();
}
