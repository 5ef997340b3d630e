import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AnomalyDetectionConsumer, SNAPSHOT_MAX_AGE_MS } from './anomaly-detection.consumer.js';

/** Event-loop time one training tick may take (~4 ms per series: about 25 series a tick). */
export const TRAINING_BUDGET_MS = 100;

/**
 * The anomaly models' schedule, off the ingest path: every second, retrain the series whose
 * isolation forest is due (within a time budget; the rest wait for the next tick, oldest first);
 * every 15 s, checkpoint series with points not snapshotted for SNAPSHOT_MAX_AGE_MS (so idle
 * series do not hold back log retention or lengthen a replay); at shutdown, checkpoint all.
 */
@Injectable()
export class AnomalyTrainingJob implements OnApplicationShutdown {
  private readonly logger = new Logger('AnomalyTraining');
  private failing = false;
  private stopped = false;

  constructor(private readonly detection: AnomalyDetectionConsumer) {}

  @Interval('anomaly-training', 1000)
  train(): void {
    if (this.stopped) return;
    try {
      this.detection.trainDue(TRAINING_BUDGET_MS);
      if (this.failing) this.logger.log('Anomaly model training recovered');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.error({ err: error }, 'Anomaly model training failed; it is retried on the next tick');
      this.failing = true;
    }
  }

  @Interval('anomaly-checkpoint', 15_000)
  async checkpointScheduled(): Promise<void> {
    if (!this.stopped) await this.detection.checkpoint(SNAPSHOT_MAX_AGE_MS);
  }

  /** After the consumers drained (beforeApplicationShutdown) and before the store closes. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.detection.checkpoint(0);
  }
}
