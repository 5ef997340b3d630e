import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/** Tables of the sla module. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  // Key order serves both window queries (one resolution, a bucket range, every
  // service) and retention (one resolution, buckets before a cutoff).
  await db.schema
    .createTable('sla_rollups')
    .addColumn('resolution', 'text', (column) => column.notNull())
    .addColumn('bucket_start', types.bigint, (column) => column.notNull())
    .addColumn('service', 'text', (column) => column.notNull())
    .addColumn('total', types.bigint, (column) => column.notNull())
    .addColumn('failed', types.bigint, (column) => column.notNull())
    .addColumn('first_event_at', types.bigint, (column) => column.notNull())
    .addColumn('updated_at', types.bigint, (column) => column.notNull())
    .addColumn('revision', types.bigint, (column) => column.notNull().defaultTo(0))
    // Last: SQLite reads columns in order, and a column after a large blob costs
    // a walk through the blob's overflow pages on every metadata-only read.
    .addColumn('sketch', types.blob, (column) => column.notNull())
    .addPrimaryKeyConstraint('sla_rollups_pk', ['resolution', 'bucket_start', 'service'])
    .execute();
  await db.schema
    .createTable('sla_targets')
    .addColumn('service', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('p95_ms', types.double, (column) => column.notNull())
    .addColumn('p99_ms', types.double, (column) => column.notNull())
    .addColumn('availability_percent', types.double, (column) => column.notNull())
    .addColumn('error_rate_percent', types.double, (column) => column.notNull())
    .addColumn('window', 'text', (column) => column.notNull())
    .addColumn('deleted', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('updated_at', types.bigint, (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('sla_states')
    .addColumn('service', 'text', (column) => column.primaryKey())
    .addColumn('state', 'text', (column) => column.notNull())
    .addColumn('changed_at', types.bigint, (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sla_states').execute();
  await db.schema.dropTable('sla_targets').execute();
  await db.schema.dropTable('sla_rollups').execute();
}
