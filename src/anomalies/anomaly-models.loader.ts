import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Tx } from '../storage/database.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import { ANOMALY_CONSUMER, ANOMALY_KINDS, ANOMALY_REPLAY_POSITION } from './anomaly-log.positions.js';
import { AnomalyStoreRepository, DATA_TIME, POINTS_OVER_CAP, SERIES_EVICTED } from './anomaly-store.repository.js';
import type { DetectorSettings } from './detection/index.js';
import { DetectionThread } from './detection-thread.client.js';
import { PointsToObserve } from './points-to-observe.request.js';
import { pointOf } from './series-identity.js';
import { detectorsToLoad, SeriesModels } from './series-models.js';
import { restoredSeries } from './series-snapshot.mapper.js';

/** Log entries read per replay step (and points per observe request of the replay). */
const REPLAY_CHUNK = 5000;

/**
 * Builds a new generation of models from the store, in the caller's transaction (the runner's, which
 * holds the consumer's position): every stored series row, then, into each series only, the log
 * entries after its snapshot id up to the consumer position (from ANOMALY_REPLAY_POSITION, the lowest
 * such id). The DetectionThread is reset first and ends up holding exactly the detectors of the new
 * generation.
 *
 * Replayed points are counted again (the counters were stored as of each snapshot) but their anomalies
 * are not returned: those rows committed with their batch. Replay gives exactly what an uninterrupted
 * run held because a detector's only inputs are its points, in log order (no training, clock or
 * randomness: see SeriesDetector).
 */
@Injectable()
export class AnomalyModelsLoader {
  constructor(
    private readonly store: AnomalyStoreRepository,
    private readonly log: IngestLogRepository,
    private readonly positions: ConsumerPositionsRepository,
    private readonly thread: DetectionThread,
    private readonly clock: Clock,
  ) {}

  async load(trx: Tx, settings: DetectorSettings, muted: ReadonlySet<string>): Promise<SeriesModels> {
    const now = this.clock.now();
    const position = await this.positions.get(ANOMALY_CONSUMER, trx);
    const replayFrom = await this.positions.get(ANOMALY_REPLAY_POSITION, trx);
    await this.thread.reset(settings);
    const models = new SeriesModels();
    for await (const row of this.store.allSeries(trx)) restoredSeries(models, row, muted);
    let after = replayFrom;
    for (;;) {
      const entries = await this.log.readAfter(trx, after, position, ANOMALY_KINDS, REPLAY_CHUNK);
      const points = new PointsToObserve(entries.length);
      for (const entry of entries) {
        const point = pointOf(entry);
        // Unknown series: over the cap when its points were applied (already counted).
        const series = point ? models.find(point.identity) : undefined;
        if (!point || series === undefined || typeof series === 'string' || entry.id <= series.snapshotId) continue;
        models.count(series, point.value, now);
        models.touch(series, entry.id, point.timestamp);
        points.add(series, entry.id, point);
      }
      if (points.size > 0) {
        const touched = [...new Set(points.series)];
        const observed = await this.thread.observe(points.request(detectorsToLoad(touched), []));
        // Replayed anomalies are counted again (the counters are as of each snapshot), not stored again.
        points.judged(observed);
        models.markReady(observed.ready);
      }
      if (entries.length < REPLAY_CHUNK) break;
      after = entries[entries.length - 1]!.id;
    }
    models.orderByLastPoint();
    models.dataTime = (await this.store.stateValueOrNull(trx, DATA_TIME)) ?? Number.NEGATIVE_INFINITY;
    models.pointsOverCap = await this.store.stateValue(trx, POINTS_OVER_CAP);
    models.seriesEvicted = await this.store.stateValue(trx, SERIES_EVICTED);
    return models;
  }
}
