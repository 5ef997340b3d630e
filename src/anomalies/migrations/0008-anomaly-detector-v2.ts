import { sql, type Kysely } from 'kysely';

/**
 * The detector of issue 23 stores another snapshot format (SeriesDetectorState version 2). Snapshots
 * of the earlier detector cannot be continued: they are discarded here (state NULL). Each series keeps
 * its row, counters and snapshot id, and its new detector learns from the points after that id (a
 * warm-up of 150 points before its first verdict).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE anomaly_series SET state = NULL`.execute(db);
}

/** The earlier detector cannot read version-2 snapshots either: they are discarded the same way. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`UPDATE anomaly_series SET state = NULL`.execute(db);
}
