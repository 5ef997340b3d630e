import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { Clock } from '../common/clock.js';
import { VigilMetrics } from '../metrics/vigil.metrics.js';
import type { Db } from '../storage/database.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { DATABASE } from '../storage/database.provider.js';

/** The windows of vigil_active_users, in milliseconds. */
export const ACTIVE_USER_WINDOWS: Readonly<Record<string, number>> = { '5m': 5 * 60_000, '1h': 3_600_000, '1d': 86_400_000 };

/**
 * Analytics metrics on the Vigil registry. vigil_active_users is computed on
 * each scrape from analytics_users (one index range count per window, relative
 * to Clock.now()): it is exact across replicas and restarts and costs nothing
 * at ingest. A failing count keeps the last value and is logged once per streak.
 */
@Injectable()
export class AnalyticsMetrics {
  private readonly logger = new Logger('AnalyticsMetrics');
  private failing = false;

  readonly eventsStored: Counter;
  readonly activeUsers: Gauge<'window'>;

  constructor(
    metrics: VigilMetrics,
    @Inject(DATABASE) private readonly db: Db<AnalyticsTables>,
    private readonly clock: Clock,
  ) {
    this.eventsStored = new Counter({
      name: 'vigil_analytics_events_ingested_total',
      help: 'Analytics events stored in the analytics store (sessions and reports see them from then on)',
      registers: [metrics.registry],
    });
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    this.activeUsers = new Gauge({
      name: 'vigil_active_users',
      help: 'Distinct users with an analytics event in the last window (5m, 1h, 1d) before now',
      labelNames: ['window'] as const,
      registers: [metrics.registry],
      async collect() {
        await self.collectActiveUsers(this);
      },
    });
  }

  private async collectActiveUsers(gauge: Gauge<'window'>): Promise<void> {
    try {
      const now = this.clock.now();
      for (const [window, length] of Object.entries(ACTIVE_USER_WINDOWS)) {
        const row = await this.db
          .selectFrom('analytics_users')
          .select((eb) => eb.fn.countAll<number>().as('users'))
          .where('last_seen', '>', now - length)
          .executeTakeFirst();
        gauge.set({ window }, Number(row?.users ?? 0));
      }
      if (this.failing) this.logger.log('vigil_active_users is computed again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.error({ err: error }, 'vigil_active_users could not be computed; the last values are kept');
      this.failing = true;
    }
  }
}
