import { Module, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { MemoryParts } from '../common/memory-parts.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import { ConsumerRegistry, DerivedStateRunner } from '../ingest-log/log-consumers.js';
import { AnomalyAnnouncer } from './anomaly.announcer.js';
import { AnomalyDetectionConsumer } from './anomaly-detection.consumer.js';
import { ANOMALY_REPLAY_POSITION } from './anomaly-log.positions.js';
import { AnomalyModelsCheckpoint } from './anomaly-models.checkpoint.js';
import { AnomalyModelsLoader } from './anomaly-models.loader.js';
import { AnomalyStoreRepository } from './anomaly-store.repository.js';
import { AnomalyCheckpointJob } from './anomaly-checkpoint.job.js';
import { DetectionThread } from './detection-thread.client.js';
import { AnomaliesController } from './anomalies.controller.js';
import { AnomaliesMetrics } from './anomalies.metrics.js';
import { AnomaliesService } from './anomalies.service.js';

/**
 * Anomaly detection: one streaming detector per metric series and per service's request
 * latency (src/anomalies/detection), fed exactly once from the ingest log; detectors on a
 * thread of their own (DetectionThread); anomalies stored, served by /anomalies, logged, counted on
 * /metrics and sent as events to the APM destinations.
 */
@Module({
  controllers: [AnomaliesController],
  providers: [
    AnomalyStoreRepository,
    AnomalyDetectionConsumer,
    AnomalyModelsLoader,
    AnomalyModelsCheckpoint,
    AnomalyAnnouncer,
    AnomalyCheckpointJob,
    AnomaliesMetrics,
    AnomaliesService,
    DetectionThread,
  ],
  exports: [AnomalyDetectionConsumer],
})
export class AnomaliesModule implements OnModuleInit {
  constructor(
    private readonly runner: DerivedStateRunner,
    private readonly consumer: AnomalyDetectionConsumer,
    private readonly positions: ConsumerPositionsRepository,
    private readonly registry: ConsumerRegistry,
    private readonly metrics: AnomaliesMetrics,
    private readonly clock: Clock,
    private readonly thread: DetectionThread,
    private readonly memoryParts: MemoryParts,
  ) {}

  async onModuleInit(): Promise<void> {
    // Retention keeps every log entry a reload may replay.
    await this.positions.ensure(ANOMALY_REPLAY_POSITION, this.clock.now());
    this.registry.register(ANOMALY_REPLAY_POSITION);
    await this.runner.register(this.consumer);
    this.metrics.registerGauges({
      modelledSeries: () => this.consumer.modelledSeries,
      seriesOverCap: () => this.consumer.seriesOverCap,
      pointsOverCap: () => this.consumer.totalPointsOverCap,
    });
    // As of the thread's last reply: its heap plus the typed arrays it holds outside that heap.
    this.memoryParts.register('detection_worker', () => {
      const memory = this.thread.memory;
      return memory === undefined ? undefined : memory.heapBytes + memory.externalBytes;
    });
  }
}
