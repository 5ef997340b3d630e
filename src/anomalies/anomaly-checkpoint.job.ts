import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AnomalyDetectionConsumer } from './anomaly-detection.consumer.js';
import { SNAPSHOT_MAX_AGE_MS } from './detection-batch.planner.js';
import { DetectionThread } from './detection-thread.client.js';

/**
 * The anomaly models' schedule, off the ingest path: every 15 s, checkpoint series with points not
 * snapshotted for SNAPSHOT_MAX_AGE_MS (so idle series do not hold back log retention or lengthen a
 * replay); at shutdown, checkpoint all, then stop the DetectionThread. Nothing here changes a
 * verdict: the detectors adapt inside each point's observation (no scheduled training), so the
 * anomalies depend on the points alone, never on this schedule.
 */
@Injectable()
export class AnomalyCheckpointJob implements OnApplicationShutdown {
  private stopped = false;

  constructor(
    private readonly detection: AnomalyDetectionConsumer,
    private readonly thread: DetectionThread,
  ) {}

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
