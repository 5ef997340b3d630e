import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Db } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import { ANOMALY_CONSUMER, ANOMALY_KINDS, ANOMALY_REPLAY_POSITION } from './anomaly-log.positions.js';
import { AnomalyStoreRepository } from './anomaly-store.repository.js';
import { DetectionThread } from './detection-thread.client.js';
import { PointsToObserve } from './points-to-observe.request.js';
import { detectorsToLoad, type SeriesModels } from './series-models.js';
import { snapshotRows } from './series-snapshot.mapper.js';

/** What a checkpoint needs to know of the consumer at any moment. */
export interface CheckpointSubject {
  /** The current generation of models. */
  models(): SeriesModels;
  /** A batch is between the start of its detection and its commit or abandonment: memory is ahead of the store. */
  batchInFlight(): boolean;
}

/**
 * Snapshots series whose points are not in their stored snapshot, when no batch brings new points: on
 * a schedule (series dirty for SNAPSHOT_MAX_AGE_MS, so idle series do not hold back log retention or
 * lengthen a replay) and at shutdown (all). Batches snapshot what they touch themselves.
 *
 * A checkpoint writes derived state without advancing the position, so it belongs where the runner
 * runs batches: in a transaction that holds the consumer's position, while memory reflects exactly that
 * position. DerivedStateRunner has no such step yet; this class is its stand-in, the one place the
 * anomalies module opens a transaction of its own. Until the runner serialises it with the consumer's
 * batches, it checks instead: the generation is not retired, no batch is in flight, the stored position
 * is at or past what the generation committed and no entry of the consumer's kinds lies between
 * (checked again after the lock).
 *
 * The runner step that would replace it (then this class keeps only the body of the transaction):
 *   DerivedStateRunner.runAtPosition(consumer, step: (trx: Tx, position: number) => Promise<void>): Promise<boolean>
 * queued behind the consumer's drain in progress (never between prepare() and afterCommit()/abandon()),
 * allowed after stop (the shutdown checkpoint runs after the drains ended); one transaction that locks
 * the position and runs `step` only when it is the position this process last committed (else resolves
 * false: another replica holds it, or a reload is due); leaves the position unchanged; a throw rolls
 * back and is handled as a failed batch (abandon(), reload before the next batch, the failure-streak log).
 */
@Injectable()
export class AnomalyModelsCheckpoint {
  private readonly logger = new Logger('Anomalies');

  constructor(
    @Inject(DATABASE) private readonly db: Db,
    private readonly positions: ConsumerPositionsRepository,
    private readonly log: IngestLogRepository,
    private readonly store: AnomalyStoreRepository,
    private readonly thread: DetectionThread,
    private readonly clock: Clock,
  ) {}

  /**
   * Snapshots the series dirty for at least `minAgeMs` (0: all) as of the consumer position; on Postgres
   * only while this replica can lock the consumer. Returns how many were written; on failure the
   * generation is retired (the next batch reloads) and 0 is returned.
   */
  async write(subject: CheckpointSubject, minAgeMs: number): Promise<number> {
    const models = subject.models();
    if (models.retired || subject.batchInFlight() || models.dirty.size === 0) return 0;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const position = await this.positions.lock(trx, ANOMALY_CONSUMER);
        if (position === null || position < models.committedUpTo) return 0;
        const newer = await this.log.readAfter(trx, models.committedUpTo, position, ANOMALY_KINDS, 1);
        if (newer.length > 0 || subject.batchInFlight() || models.retired) return 0;
        const now = this.clock.now();
        const due = [...models.dirty].filter((series) => now - series.dirtySince >= minAgeMs);
        if (due.length === 0) return 0;
        // Marked before the request is sent: a batch planned meanwhile sees these series clean as of
        // `position`, and its points reach the thread after this snapshot request.
        for (const series of due) models.markSnapshotted(series, position);
        const observed = await this.thread.observe(new PointsToObserve(0).request(detectorsToLoad(due), due));
        await this.store.saveSeries(trx, snapshotRows(models, observed), now);
        await this.positions.set(trx, ANOMALY_REPLAY_POSITION, models.replayFloor(position), now);
        return due.length;
      });
    } catch (error) {
      // Series were marked snapshotted that the store does not hold: the generation no longer matches it.
      models.retire();
      this.logger.error({ err: error }, 'Anomaly checkpoint failed; the models are reloaded from the store before the next batch');
      return 0;
    }
  }
}
