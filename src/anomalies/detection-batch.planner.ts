import type { LogEntry } from '../ingest-log/log-entry.js';
import type { NewAnomaly, SeriesSnapshotRow } from './anomaly-store.repository.js';
import type { ObserveRequest, ObserveResult } from './detection/series-detector-set.js';
import { PointsToObserve } from './points-to-observe.request.js';
import { pointOf } from './series-identity.js';
import { detectorsToLoad, type ModelledSeries, type SeriesModels } from './series-models.js';
import { creationRow, newSeries, snapshotRows } from './series-snapshot.mapper.js';

/** A touched series is snapshotted once this many points are not in its stored snapshot... */
export const SNAPSHOT_EVERY_POINTS = 2000;
/** ...or once it has had unsnapshotted points this long (also swept for untouched series). */
export const SNAPSHOT_MAX_AGE_MS = 60_000;
/** Untouched series snapshotted per batch by the age sweep (the rest wait for the next batch or checkpoint). */
const SWEEP_PER_BATCH = 200;
/** Distinct refused series remembered for the over-cap gauge; past it the gauge stops growing. */
const MAX_REMEMBERED_REFUSED = 100_000;

/** The configured limits a batch is planned under. */
export interface DetectionPolicy {
  /** VIGIL_ANOMALY_MAX_SERIES. */
  maxSeries: number;
  /** VIGIL_ANOMALY_SERIES_IDLE_SECONDS, in milliseconds of data time. */
  idleMs: number;
  /** Metric names modelled and counted but never reported as anomalous. */
  muted: ReadonlySet<string>;
}

/** A batch's decisions, taken before its points go to the DetectionThread. */
export interface BatchPlan {
  entries: LogEntry[];
  now: number;
  /** The last entry's id: the snapshots requested by this batch reflect the log up to it. */
  batchEnd: number;
  points: PointsToObserve;
  created: ModelledSeries[];
  snapshotted: ModelledSeries[];
  evictedIds: string[];
  replayFrom: number;
  /** Handles the request drops: free for new series once it is sent (SeriesModels.releaseHandles). */
  drop: number[];
  request: ObserveRequest;
  pointsOverCapBefore: number;
  dataTimeBefore: number;
}

/** A batch run through the detectors: everything its transaction writes, and what is published after commit. */
export interface DetectedBatch {
  /** The generation that detected it: should it be retired before the batch is written, the batch is detected anew. */
  models: SeriesModels;
  entries: LogEntry[];
  now: number;
  batchEnd: number;
  /** Snapshot rows and creation rows to save (after the evicted series' rows are deleted). */
  rows: SeriesSnapshotRow[];
  anomalies: NewAnomaly[];
  replayFrom: number;
  /** Ids of the series evicted by this batch: their rows are deleted. */
  evictedIds: string[];
  /** The anomaly_state values to write with the batch, when it changed them. */
  seriesEvicted: number | undefined;
  pointsOverCap: number | undefined;
  dataTime: number | undefined;
}

/**
 * Takes every decision about a batch on the consumer's models, synchronously: creations, evictions and
 * refusals at the cap (all by log order and data time, never the wall clock, so a replay decides alike),
 * counters, and which series to snapshot as of `batchEnd`. The caller
 * sends `request` to the thread, then calls `models.releaseHandles(plan.drop)`.
 */
export function planBatch(models: SeriesModels, entries: LogEntry[], now: number, policy: DetectionPolicy, refused: Set<string>): BatchPlan {
  const batchEnd = entries[entries.length - 1]!.id;
  const created: ModelledSeries[] = [];
  const touched = new Set<ModelledSeries>();
  const points = new PointsToObserve(entries.length);
  const pointsOverCapBefore = models.pointsOverCap;
  const dataTimeBefore = models.dataTime;
  const evictedIds: string[] = [];
  for (const entry of entries) {
    const point = pointOf(entry);
    if (!point) continue;
    if (point.timestamp > models.dataTime) models.dataTime = point.timestamp;
    let series = models.find(point.identity);
    if (typeof series === 'string') {
      if (models.series.size >= policy.maxSeries) {
        const idlest = models.idlest(policy.idleMs);
        if (!idlest) {
          models.pointsOverCap++;
          if (refused.size < MAX_REMEMBERED_REFUSED) refused.add(series);
          continue;
        }
        models.evict(idlest);
        evictedIds.push(idlest.id);
      }
      series = newSeries(models, point, series, entry.id - 1, policy.muted);
      created.push(series);
    }
    touched.add(series);
    models.count(series, point.value, now);
    models.touch(series, entry.id, point.timestamp);
    points.add(series, entry.id, point);
  }
  models.seriesEvicted += evictedIds.length;

  const snapshotted: ModelledSeries[] = [];
  for (const series of touched) {
    // Evicted later in the batch: its row is deleted, its detector dropped after its points.
    if (!models.holds(series)) continue;
    if (series.pointsSinceSnapshot >= SNAPSHOT_EVERY_POINTS || now - series.dirtySince >= SNAPSHOT_MAX_AGE_MS) {
      models.markSnapshotted(series, batchEnd);
      snapshotted.push(series);
    }
  }
  let swept = 0;
  for (const series of [...models.dirty]) {
    if (swept >= SWEEP_PER_BATCH || now - series.dirtySince < SNAPSHOT_MAX_AGE_MS) break;
    models.markSnapshotted(series, batchEnd);
    snapshotted.push(series);
    swept++;
  }
  const replayFrom = models.replayFloor(batchEnd);
  const drop = models.takeEvictedHandles();
  const request = points.request(detectorsToLoad([...touched, ...snapshotted]), snapshotted, drop);
  return { entries, now, batchEnd, points, created, snapshotted, evictedIds, replayFrom, drop, request, pointsOverCapBefore, dataTimeBefore };
}

/** Reads the thread's answer to a planned batch back into the models: verdicts, warm-ups passed, rows to write. */
export function detectedBatch(models: SeriesModels, plan: BatchPlan, observed: ObserveResult): DetectedBatch {
  const anomalies = plan.points.judged(observed);
  models.markReady(observed.ready);
  const rows = snapshotRows(models, observed);
  const snapshotted = new Set(plan.snapshotted);
  for (const series of plan.created) if (!snapshotted.has(series) && models.holds(series)) rows.push(creationRow(series));
  return {
    models,
    entries: plan.entries,
    now: plan.now,
    batchEnd: plan.batchEnd,
    rows,
    anomalies,
    replayFrom: plan.replayFrom,
    evictedIds: plan.evictedIds,
    seriesEvicted: plan.evictedIds.length > 0 ? models.seriesEvicted : undefined,
    pointsOverCap: models.pointsOverCap !== plan.pointsOverCapBefore ? models.pointsOverCap : undefined,
    dataTime: models.dataTime !== plan.dataTimeBefore ? models.dataTime : undefined,
  };
}
