import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { UserErasure } from '../common/user-erasure.js';
import { IngestHooks } from '../ingest/ingest-hooks.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DerivedStateRunner } from '../ingest-log/log-consumers.js';
import { RetentionJob } from '../ingest-log/retention.job.js';
import { AnalyticsQueriesRepository } from './analytics-queries.repository.js';
import { AnalyticsRetention } from './analytics-retention.js';
import { AnalyticsIdentitiesRepository } from './analytics-identities.repository.js';
import { AnalyticsStoreRepository, DAY_MS } from './analytics-store.repository.js';
import { AnalyticsConsumer } from './analytics.consumer.js';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsMetrics } from './analytics.metrics.js';
import { AnalyticsService } from './analytics.service.js';

/**
 * User analytics: stores analytics events from the ingest log (with sessions,
 * user-days and last-seen rows), answers /analytics/*, erases users, trims by
 * age (VIGIL_ANALYTICS_RETENTION_DAYS) and exposes vigil_active_users.
 */
@Module({
  controllers: [AnalyticsController],
  providers: [AnalyticsStoreRepository, AnalyticsIdentitiesRepository, AnalyticsQueriesRepository, AnalyticsConsumer, AnalyticsMetrics, AnalyticsService, AnalyticsRetention],
})
export class AnalyticsModule implements OnModuleInit {
  constructor(
    private readonly runner: DerivedStateRunner,
    private readonly consumer: AnalyticsConsumer,
    private readonly store: AnalyticsStoreRepository,
    private readonly erasure: UserErasure,
    private readonly retentionJob: RetentionJob,
    private readonly retention: AnalyticsRetention,
    private readonly ingestHooks: IngestHooks,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.runner.register(this.consumer);
    this.erasure.register('analytics', (trx, userId) => this.store.eraseUser(trx, userId));
    const days = this.config.retention.analyticsDays;
    this.retentionJob.addTask({ name: 'analytics', run: (now) => this.retention.run(now, days) });
    // Retention deletes events by their own time: older ones are refused at ingest instead.
    this.ingestHooks.limitAge('analytics', { maxAgeMs: days * DAY_MS, reason: `the analytics retention of ${days} days (VIGIL_ANALYTICS_RETENTION_DAYS)` });
  }
}
