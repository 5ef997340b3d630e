import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { Db } from '../storage/database.js';
import type { SlaTables } from './sla.tables.js';
import { DATABASE } from '../storage/database.provider.js';
import { isReportWindow, DEFAULT_WINDOW } from './sla-windows.js';
import { DEFAULT_TARGETS, type SlaTarget } from './sla-target.js';

/**
 * The effective targets: the defaults, overridden or removed by the targets file
 * (read once at startup), overridden or removed by the API (stored, so every
 * replica and every restart sees them). The API has the last word: a DELETE
 * removes a default or file target too, until a PUT sets it again.
 */
@Injectable()
export class SlaTargetsService implements OnModuleInit {
  private readonly logger = new Logger('SlaTargets');
  private configured = new Map<string, SlaTarget>();

  constructor(
    @Inject(DATABASE) private readonly db: Db<SlaTables>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  /** The targets file was read and validated with the rest of the configuration. */
  onModuleInit(): void {
    const configured = new Map(DEFAULT_TARGETS.map((target) => [target.service, { ...target }]));
    const path = this.config.sla.targetsFile;
    const file = this.config.sla.file;
    if (path && file) {
      for (const service of file.removed) configured.delete(service);
      for (const target of file.targets) configured.set(target.service, target);
      this.logger.log(`Loaded ${file.targets.length} SLA target(s) from ${path}${file.removed.length ? `, removed ${file.removed.join(', ')}` : ''}`);
    }
    this.configured = configured;
  }

  async all(): Promise<Map<string, SlaTarget>> {
    const targets = new Map(this.configured);
    const stored = await this.db.selectFrom('sla_targets').selectAll().execute();
    for (const row of stored) {
      if (Number(row.deleted) === 1) {
        targets.delete(row.service);
        continue;
      }
      targets.set(row.service, {
        service: row.service,
        name: row.name,
        p95Ms: Number(row.p95_ms),
        p99Ms: Number(row.p99_ms),
        availabilityPercent: Number(row.availability_percent),
        errorRatePercent: Number(row.error_rate_percent),
        window: isReportWindow(row.window) ? row.window : DEFAULT_WINDOW,
        source: 'api',
      });
    }
    return targets;
  }

  async get(service: string): Promise<SlaTarget | null> {
    return (await this.all()).get(service) ?? null;
  }

  async put(target: SlaTarget): Promise<SlaTarget> {
    const row = {
      service: target.service,
      name: target.name,
      p95_ms: target.p95Ms,
      p99_ms: target.p99Ms,
      availability_percent: target.availabilityPercent,
      error_rate_percent: target.errorRatePercent,
      window: target.window,
      deleted: 0,
      updated_at: this.clock.now(),
    };
    await this.db
      .insertInto('sla_targets')
      .values(row)
      .onConflict((conflict) => conflict.column('service').doUpdateSet(row))
      .execute();
    return { ...target, source: 'api' };
  }

  /** Removes the service's target; false when it had none. */
  async delete(service: string): Promise<boolean> {
    const existing = await this.get(service);
    if (!existing) return false;
    const tombstone = {
      service,
      name: existing.name,
      p95_ms: existing.p95Ms,
      p99_ms: existing.p99Ms,
      availability_percent: existing.availabilityPercent,
      error_rate_percent: existing.errorRatePercent,
      window: existing.window,
      deleted: 1,
      updated_at: this.clock.now(),
    };
    await this.db
      .insertInto('sla_targets')
      .values(tombstone)
      .onConflict((conflict) => conflict.column('service').doUpdateSet(tombstone))
      .execute();
    return true;
  }
}
