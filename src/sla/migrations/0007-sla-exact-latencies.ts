import type { Kysely } from 'kysely';
import { columnTypes } from '../../storage/sql-types.js';

/**
 * SLA rollups of few requests keep their exact durations (SlaRollupTable.exact_ms), so
 * small windows report exact p95/p99. Rows written before hold null and are read as
 * before, through their bins. A replica of an earlier version may keep running during
 * the upgrade: it updates the bins only, and a stored list whose length no longer
 * matches the row's count is ignored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // After `sketch`: reads without sketches never reach it, and a null costs nothing to skip.
  await db.schema.alterTable('sla_rollups').addColumn('exact_ms', columnTypes(db).blob).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('sla_rollups').dropColumn('exact_ms').execute();
}
