import type { Kysely } from 'kysely';

/**
 * An ingest-log row holds a run of consecutive entries (see IngestLogTable). Rows written
 * before this migration hold one entry each, which is what the defaults say.
 *
 * Upgrading: a replica of an earlier version cannot read the rows this version writes, so
 * on Postgres stop every replica before starting this version (no rolling upgrade across
 * it). Appends now also set the id sequence (setval), so Vigil's database role needs
 * UPDATE on that sequence, not only USAGE.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ingest_log').addColumn('entry_count', 'integer', (column) => column.notNull().defaultTo(1)).execute();
  await db.schema.alterTable('ingest_log').addColumn('event_times', 'text').execute();
  await db.schema.alterTable('ingest_log').addColumn('payload_length', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('ingest_log').dropColumn('payload_length').execute();
  await db.schema.alterTable('ingest_log').dropColumn('event_times').execute();
  await db.schema.alterTable('ingest_log').dropColumn('entry_count').execute();
}
