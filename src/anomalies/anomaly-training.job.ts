import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AnomalyDetectionConsumer } from './anomaly-detection.consumer.js';
import { SNAPSHOT_MAX_AGE_MS } from './detection-batch.planner.js';
import { DetectionThread } from './detection-thread.client.js';

/**
 * The anomaly models' schedule, off the ingest path: every second, retrain the series whose
 * isolation forest is due (on the DetectionThread, until none is due; a tick that
 * finds the previous one still training joins it); every 15 s, checkpoint series with points not
 * snapshotted for SNAPSHOT_MAX_AGE_MS (so idle series do not hold back log retention or lengthen
 * a replay); at shutdown, checkpoint all, then stop the DetectionThread.
 */
@Injectable()
export class AnomalyTrainingJob implements OnApplicationShutdown {
  private readonly logger = new Logger('AnomalyTraining');
  private failing = false;
  private stopped = false;

  constructor(
    private readonly detection: AnomalyDetectionConsumer,
    private readonly thread: DetectionThread,
  ) {}

  @Interval('anomaly-training', 1000)
  async train(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.detection.trainDue();
      if (this.failing) this.logger.log('Anomaly model training recovered');
      this.failing = false;
    } catch (error) {
      // Shutting down closes the detection thread under a running round: not a failure.
      if (!this.failing && !this.stopped) this.logger.error({ err: error }, 'Anomaly model training failed; it is retried on the next tick');
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
    await this.thread.close();
  }
}
