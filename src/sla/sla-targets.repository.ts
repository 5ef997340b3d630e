import { Inject, Injectable } from '@nestjs/common';
import type { Db } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { isReportWindow, DEFAULT_WINDOW } from './sla-windows.js';
import type { SlaTarget } from './sla-target.js';
import type { SlaTables } from './sla.tables.js';

/** One row of sla_targets: the target set through the API, or null where the API removed the service's target. */
export interface StoredSlaTarget {
  service: string;
  target: SlaTarget | null;
}

/**
 * The targets set or removed through the API (sla_targets). A removal is kept as a
 * tombstone row (`deleted` = 1) carrying the values of the target it hid.
 */
@Injectable()
export class SlaTargetsRepository {
  constructor(@Inject(DATABASE) private readonly db: Db<SlaTables>) {}

  async all(): Promise<StoredSlaTarget[]> {
    const rows = await this.db.selectFrom('sla_targets').selectAll().execute();
    return rows.map((row) => ({
      service: row.service,
      target:
        Number(row.deleted) === 1
          ? null
          : {
              service: row.service,
              name: row.name,
              p95Ms: Number(row.p95_ms),
              p99Ms: Number(row.p99_ms),
              availabilityPercent: Number(row.availability_percent),
              errorRatePercent: Number(row.error_rate_percent),
              window: isReportWindow(row.window) ? row.window : DEFAULT_WINDOW,
              source: 'api',
            },
    }));
  }

  /** Stores the target (deleted = false) or a tombstone with its values (deleted = true), replacing the service's row. */
  async upsert(target: SlaTarget, deleted: boolean, now: number): Promise<void> {
    const row = {
      service: target.service,
      name: target.name,
      p95_ms: target.p95Ms,
      p99_ms: target.p99Ms,
      availability_percent: target.availabilityPercent,
      error_rate_percent: target.errorRatePercent,
      window: target.window,
      deleted: deleted ? 1 : 0,
      updated_at: now,
    };
    await this.db
      .insertInto('sla_targets')
      .values(row)
      .onConflict((conflict) => conflict.column('service').doUpdateSet(row))
      .execute();
  }
}
