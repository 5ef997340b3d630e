import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { UserErasure } from '../common/user-erasure.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DerivedStateRunner } from '../storage/log-consumers.js';
import { RetentionJob } from '../storage/retention.job.js';
import { AnalyticsQueriesRepository } from './analytics-queries.repository.js';
import { AnalyticsRetention } from './analytics-retention.js';
import { AnalyticsStoreRepository } from './analytics-store.repository.js';
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
  providers: [AnalyticsStoreRepository, AnalyticsQueriesRepository, AnalyticsConsumer, AnalyticsMetrics, AnalyticsService, AnalyticsRetention],
})
export class AnalyticsModule implements OnModuleInit {
  constructor(
    private readonly runner: DerivedStateRunner,
    private readonly consumer: AnalyticsConsumer,
    private readonly store: AnalyticsStoreRepository,
    private readonly erasure: UserErasure,
    private readonly retentionJob: RetentionJob,
    private readonly retention: AnalyticsRetention,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.runner.register(this.consumer);
    this.erasure.register('analytics', (trx, userId) => this.store.eraseUser(trx, userId));
    this.retentionJob.addTask({ name: 'analytics', run: (now) => this.retention.run(now, this.config.retention.analyticsDays) });
  }
}
