import { createHash } from 'node:crypto';
import type { SeriesSnapshotRow } from './anomaly-store.repository.js';
import type { ObserveResult } from './detection/series-detector-set.js';
import { emptyCounters, type SeriesCounters } from './series-counters.js';
import { identityText, seriesIdentity, type SeriesPoint } from './series-identity.js';
import type { ModelledSeries, SeriesModels } from './series-models.js';

/**
 * Between a modelled series in memory and its stored row in anomaly_series: a new series, a series
 * restored from its row, and the rows to write for snapshots. The row format is the stored data of
 * existing databases: unchanged.
 */

/** The `counters` column: report counters plus what a reload needs beyond the detector state. */
interface StoredCounters extends SeriesCounters {
  trained: boolean;
  /** ModelledSeries.lastPointId and newestPointTime as of the snapshot (absent in rows of earlier versions). */
  lastPointId?: number;
  newestPointTime?: number | null;
}

/** The stored id of a series: the hash of its identity text. */
function seriesIdOf(key: string): string {
  return createHash('sha1').update(key).digest('hex');
}

/** A series seen for the first time, added to `models`; `snapshotId` is the entry before its first point. */
export function newSeries(models: SeriesModels, point: SeriesPoint, key: string, snapshotId: number, muted: ReadonlySet<string>): ModelledSeries {
  const series: ModelledSeries = {
    key,
    identity: point.identity,
    id: seriesIdOf(key),
    source: point.source,
    metric: point.metric,
    tags: point.tags,
    muted: muted.has(point.metric),
    handle: models.nextHandle(),
    loaded: false,
    storedState: null,
    counters: emptyCounters(),
    trained: false,
    snapshotId,
    dirty: false,
    dirtySince: 0,
    pointsSinceSnapshot: 0,
    lastPointId: snapshotId,
    newestPointTime: Number.NEGATIVE_INFINITY,
  };
  models.add(series);
  return series;
}

/** A series as its stored row describes it, added to `models`; its detector is loaded with the next request naming it. */
export function restoredSeries(models: SeriesModels, row: SeriesSnapshotRow, muted: ReadonlySet<string>): ModelledSeries {
  const source = row.source === 'request' ? 'request' : 'metric';
  const { trained, lastPointId, newestPointTime, ...counters } = JSON.parse(row.counters) as StoredCounters;
  const identity = seriesIdentity(source, row.metric, row.tags);
  const series: ModelledSeries = {
    key: identityText(identity),
    identity,
    id: row.seriesId,
    source,
    metric: row.metric,
    tags: row.tags,
    muted: muted.has(row.metric),
    handle: models.nextHandle(),
    loaded: false,
    storedState: row.state,
    counters,
    trained,
    snapshotId: row.snapshotId,
    dirty: false,
    dirtySince: 0,
    pointsSinceSnapshot: 0,
    // A row written before eviction existed counts as touched at its snapshot, with no known point
    // time: idle, until its next point.
    lastPointId: lastPointId ?? row.snapshotId,
    newestPointTime: newestPointTime ?? Number.NEGATIVE_INFINITY,
  };
  models.add(series);
  return series;
}

/** The stored rows of the snapshots the thread returned (their series were marked snapshotted when requested). */
export function snapshotRows(models: SeriesModels, observed: ObserveResult): SeriesSnapshotRow[] {
  return observed.snapshots.map(({ handle, state, trained }) => {
    const series = models.byHandle[handle]!;
    series.trained = trained;
    return seriesRow(series, state, { ...series.counters, trained, lastPointId: series.lastPointId, newestPointTime: series.newestPointTime });
  });
}

/** The row of a series as created: no point yet as of its snapshot id, the entry before its first point. */
export function creationRow(series: ModelledSeries): SeriesSnapshotRow {
  return seriesRow(series, null, { ...emptyCounters(), trained: false, lastPointId: series.snapshotId, newestPointTime: null });
}

function seriesRow(series: ModelledSeries, state: SeriesSnapshotRow['state'], counters: StoredCounters): SeriesSnapshotRow {
  return {
    seriesId: series.id,
    source: series.source,
    metric: series.metric,
    tags: series.tags,
    snapshotId: series.snapshotId,
    state,
    counters: JSON.stringify(counters),
  };
}
