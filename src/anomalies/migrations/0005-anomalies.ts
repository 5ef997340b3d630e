import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/** Tables of the anomalies module (see src/anomalies/anomalies.tables.ts). */
export async function up(db: Kysely<unknown>): Promise<void> {
  const types = columnTypes(db);
  await db.schema
    .createTable('anomalies')
    .addColumn('id', types.serialId, (column) => (types.postgres ? column.primaryKey() : column.primaryKey().autoIncrement()))
    .addColumn('log_id', types.bigint, (column) => column.notNull().unique())
    .addColumn('series_id', 'text', (column) => column.notNull())
    .addColumn('metric', 'text', (column) => column.notNull())
    .addColumn('tags', 'text', (column) => column.notNull())
    .addColumn('point_time', types.bigint, (column) => column.notNull())
    .addColumn('value', types.double, (column) => column.notNull())
    .addColumn('score', types.double, (column) => column.notNull())
    .addColumn('expected', types.double, (column) => column.notNull())
    .addColumn('severity', 'text', (column) => column.notNull())
    .addColumn('methods', 'text', (column) => column.notNull())
    .addColumn('detected_at', types.bigint, (column) => column.notNull())
    .execute();
  await db.schema.createIndex('anomalies_metric_time').on('anomalies').columns(['metric', 'point_time']).execute();
  await db.schema.createIndex('anomalies_time').on('anomalies').column('point_time').execute();
  await db.schema
    .createTable('anomaly_series')
    .addColumn('series_id', 'text', (column) => column.primaryKey())
    .addColumn('source', 'text', (column) => column.notNull())
    .addColumn('metric', 'text', (column) => column.notNull())
    .addColumn('tags', 'text', (column) => column.notNull())
    .addColumn('snapshot_id', types.bigint, (column) => column.notNull())
    .addColumn('state', 'text')
    .addColumn('counters', 'text', (column) => column.notNull())
    .addColumn('updated_at', types.bigint, (column) => column.notNull())
    .execute();
  await db.schema
    .createTable('anomaly_state')
    .addColumn('name', 'text', (column) => column.primaryKey())
    .addColumn('value', types.bigint, (column) => column.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('anomaly_state').execute();
  await db.schema.dropTable('anomaly_series').execute();
  await db.schema.dropTable('anomalies').execute();
}
