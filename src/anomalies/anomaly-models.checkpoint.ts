import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import { DerivedStateRunner, type DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import { ANOMALY_REPLAY_POSITION } from './anomaly-log.positions.js';
import { AnomalyStoreRepository } from './anomaly-store.repository.js';
import { DetectionThread } from './detection-thread.client.js';
import { PointsToObserve } from './points-to-observe.request.js';
import { detectorsToLoad, type SeriesModels } from './series-models.js';
import { snapshotRows } from './series-snapshot.mapper.js';

/**
 * Snapshots series whose points are not in their stored snapshot, when no batch brings new points: on
 * a schedule (series dirty for SNAPSHOT_MAX_AGE_MS, so idle series do not hold back log retention or
 * lengthen a replay) and at shutdown (all). Batches snapshot what they touch themselves.
 *
 * A checkpoint writes derived state without advancing the position, so it runs where the runner runs
 * batches: DerivedStateRunner.runAtPosition, one transaction that holds the consumer's position, never
 * between a batch's prepare and commit, and only while that position is the one this process last
 * committed — so the models reflect exactly it. A failure is the runner's failed batch: the consumer
 * abandons its generation and the next batch reloads the models from the store.
 */
@Injectable()
export class AnomalyModelsCheckpoint {
  constructor(
    private readonly runner: DerivedStateRunner,
    private readonly positions: ConsumerPositionsRepository,
    private readonly store: AnomalyStoreRepository,
    private readonly thread: DetectionThread,
    private readonly clock: Clock,
  ) {}

  /**
   * Snapshots the series of the consumer's current generation (`models()`, read again once the
   * position is held) dirty for at least `minAgeMs` (0: all). Returns how many were written: 0 when
   * the generation is retired, nothing is due, or the runner did not run the step.
   */
  async write(consumer: DerivedStateConsumer, models: () => SeriesModels, minAgeMs: number): Promise<number> {
    if (models().retired || models().dirty.size === 0) return 0;
    let written = 0;
    await this.runner.runAtPosition(consumer, async (trx, position) => {
      const generation = models();
      if (generation.retired) return;
      const now = this.clock.now();
      const due = [...generation.dirty].filter((series) => now - series.dirtySince >= minAgeMs);
      if (due.length === 0) return;
      // Marked before the request is sent: a batch planned meanwhile sees these series clean as of
      // `position`, and its points reach the thread after this snapshot request.
      for (const series of due) generation.markSnapshotted(series, position);
      const observed = await this.thread.observe(new PointsToObserve(0).request(detectorsToLoad(due), due));
      await this.store.saveSeries(trx, snapshotRows(generation, observed), now);
      await this.positions.set(trx, ANOMALY_REPLAY_POSITION, generation.replayFloor(position), now);
      written = due.length;
    });
    return written;
  }
}
