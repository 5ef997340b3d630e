import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpObservers } from '../common/http-observers.js';
import { IngestHooks } from '../ingest/ingest-hooks.js';
import { DerivedStateRunner } from '../ingest-log/log-consumers.js';
import { RetentionJob } from '../ingest-log/retention.job.js';
import { OwnRequestsRecorder } from './own-requests.recorder.js';
import { SlaRollupConsumer } from './sla-rollup.consumer.js';
import { SlaRollupsRepository } from './sla-rollups.repository.js';
import { SlaStatesRepository } from './sla-states.repository.js';
import { SlaTargetsRepository } from './sla-targets.repository.js';
import { SlaTargetsService } from './sla-targets.service.js';
import { DAY_MS, LONGEST_WINDOW_MS } from './sla-windows.js';
import { SlaController } from './sla.controller.js';
import { SlaMetrics } from './sla.metrics.js';
import { SlaMonitor } from './sla.monitor.js';
import { SlaService } from './sla.service.js';

// Rollups are kept this long past the longest window (a day row covering the
// window's first partial day is never read, but its minutes and hours are).
const RETENTION_MARGIN_MS = 2 * DAY_MS;

/**
 * SLA tracking: request records → per-minute/hour/day rollups (exactly once, by
 * each record's own time) → windowed quantiles, availability, error budgets and
 * burn rates; targets; transitions to the APM destinations; Prometheus gauges.
 */
@Module({
  controllers: [SlaController],
  providers: [SlaRollupsRepository, SlaTargetsRepository, SlaStatesRepository, SlaTargetsService, SlaService, SlaRollupConsumer, OwnRequestsRecorder, SlaMonitor, SlaMetrics],
  exports: [SlaService, SlaMonitor, OwnRequestsRecorder, SlaRollupsRepository],
})
export class SlaModule implements OnModuleInit {
  constructor(
    private readonly runner: DerivedStateRunner,
    private readonly consumer: SlaRollupConsumer,
    private readonly rollups: SlaRollupsRepository,
    private readonly retention: RetentionJob,
    private readonly monitor: SlaMonitor,
    private readonly metrics: SlaMetrics,
    private readonly ownRequests: OwnRequestsRecorder,
    private readonly hooks: IngestHooks,
    private readonly httpObservers: HttpObservers,
  ) {}

  async onModuleInit(): Promise<void> {
    this.consumer.onCommitted = () => this.monitor.scheduleEvaluation();
    await this.runner.register(this.consumer);
    this.retention.addTask({ name: 'sla_rollups', run: (now) => this.rollups.deleteBefore(now - LONGEST_WINDOW_MS - RETENTION_MARGIN_MS) });
    this.hooks.observeCommitted('request', (items) => this.metrics.observe(items));
    this.httpObservers.add((request) => this.ownRequests.record(request));
    this.metrics.registerGauges(() => this.monitor.latest, this.ownRequests);
  }
}
