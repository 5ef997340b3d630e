import { TupleMap } from '../common/tuple-map.js';
import type { Tags } from '../ingest-log/ingest-log.items.js';
import { countPoint, type SeriesCounters } from './series-counters.js';
import type { SeriesToLoad } from './detection/series-detector-set.js';
import { identityText, type SeriesSource } from './series-identity.js';

/**
 * One modelled series. Its detector lives on the DetectionThread under `handle`;
 * `snapshotId`, `dirty`... describe its stored snapshot relative to that detector.
 */
export interface ModelledSeries {
  /** identityText() of its identity. */
  key: string;
  /** The identity parts it was created or restored with (its entry in SeriesModels' per-point lookup). */
  identity: string[];
  id: string;
  source: SeriesSource;
  metric: string;
  tags: Tags;
  muted: boolean;
  handle: number;
  /** The DetectionThread holds its detector; until then (after a reload) storedState is what to load. */
  loaded: boolean;
  storedState: string | null;
  counters: SeriesCounters;
  trained: boolean;
  /** The detector state and counters of the stored row reflect the log entries <= snapshotId. */
  snapshotId: number;
  /** Points after snapshotId are in memory only (committed or in the open batch). */
  dirty: boolean;
  dirtySince: number;
  pointsSinceSnapshot: number;
  /** Log id of its last point (its place in SeriesModels.byLastPoint). */
  lastPointId: number;
  /** Newest timestamp among its points (-Infinity: none known); what its idle time is measured from. */
  newestPointTime: number;
}

/**
 * One generation of the anomaly consumer's in-memory models: the bookkeeping of every modelled series
 * whose detector the DetectionThread holds, and the module state a reload restores with them. A reload
 * builds a new generation and swaps it in at once.
 *
 * A generation is *retired* (one way, never undone) as soon as the thread may no longer hold exactly its
 * detectors as of the store: the thread was lost, a request to it failed, a batch it detected was
 * abandoned, a checkpoint of it failed, or a reload began. A retired generation is still read by reports
 * (the last known counters), but nothing is detected or snapshotted with it again: the next
 * batch reloads a new generation from the store in its transaction.
 *
 * Eviction (see AnomalyDetectionConsumer): `dataTime` is the newest point timestamp of every metric and
 * request point applied so far, refused ones included: time as the data tells it, the same on every run over
 * the same log. `byLastPoint` holds every series in the order of its last point in the log, so the series
 * idle longest, the candidate for eviction, is its first, found in O(1).
 */
export class SeriesModels {
  /** Every series by its key. */
  readonly series = new Map<string, ModelledSeries>();
  /**
   * Every series by the identity parts it was created or restored with: the per-point lookup
   * (see TupleMap). Other parts with the same text (a tag split elsewhere at "=") are not
   * added: they find their series through the text each time, so they cannot grow this.
   */
  private readonly byIdentity = new TupleMap<ModelledSeries>();
  /** By handle; an evicted series leaves a hole until its handle is reused. */
  readonly byHandle: Array<ModelledSeries | undefined> = [];
  /** Series with points not in their stored snapshot, in the order they became so. */
  readonly dirty = new Set<ModelledSeries>();
  /** Every series, least recently touched (lowest lastPointId) first. */
  private readonly byLastPoint = new Set<ModelledSeries>();
  /** Handles free for a new series: their detectors were dropped by a request already sent to the thread. */
  private readonly freeHandles: number[] = [];
  /** Handles of series evicted since the last request was sent: the next request drops their detectors. */
  private evictedHandles: number[] = [];
  dataTime = Number.NEGATIVE_INFINITY;
  /** Points of series refused at the cap, in total since the store began (anomaly_state). */
  pointsOverCap = 0;
  /** Series evicted at the cap since the store began (anomaly_state). */
  seriesEvicted = 0;
  private wasRetired = false;

  /** A generation not yet loaded from the store: retired from the start, so that the first batch loads one. */
  static unloaded(): SeriesModels {
    const models = new SeriesModels();
    models.retire();
    return models;
  }

  /** See the class comment: this generation is never used for detection again. */
  retire(): void {
    this.wasRetired = true;
  }

  get retired(): boolean {
    return this.wasRetired;
  }

  /** The series of these identity parts; when there is none, the identity's text (the key it would have). */
  find(identity: string[]): ModelledSeries | string {
    const series = this.byIdentity.get(identity);
    if (series) return series;
    const key = identityText(identity);
    return this.series.get(key) ?? key;
  }

  /** The series is modelled (not evicted). */
  holds(series: ModelledSeries): boolean {
    return this.series.get(series.key) === series;
  }

  /** A handle for a new series: a freed one, else the next unused one. */
  nextHandle(): number {
    return this.freeHandles.pop() ?? this.byHandle.length;
  }

  add(series: ModelledSeries): void {
    this.series.set(series.key, series);
    this.byIdentity.set(series.identity, series);
    this.byHandle[series.handle] = series;
    this.byLastPoint.add(series);
  }

  /** Records a point of the series at log id `logId` (ids only grow, except during a reload: see orderByLastPoint). */
  touch(series: ModelledSeries, logId: number, timestamp: number): void {
    series.lastPointId = logId;
    if (timestamp > series.newestPointTime) series.newestPointTime = timestamp;
    this.byLastPoint.delete(series);
    this.byLastPoint.add(series);
  }

  /** Puts byLastPoint in lastPointId order, after a reload restored and replayed series in another order. */
  orderByLastPoint(): void {
    const ordered = [...this.byLastPoint].sort((first, second) => first.lastPointId - second.lastPointId);
    this.byLastPoint.clear();
    for (const series of ordered) this.byLastPoint.add(series);
  }

  /** The series touched least recently, if its newest point is at least `idleMs` older than dataTime. */
  idlest(idleMs: number): ModelledSeries | undefined {
    for (const series of this.byLastPoint) return this.dataTime - series.newestPointTime >= idleMs ? series : undefined;
    return undefined;
  }

  /** Forgets the series; its handle is dropped on the thread by the next request (see takeEvictedHandles). */
  evict(series: ModelledSeries): void {
    this.series.delete(series.key);
    this.byIdentity.delete(series.identity);
    this.byHandle[series.handle] = undefined;
    this.byLastPoint.delete(series);
    this.dirty.delete(series);
    this.evictedHandles.push(series.handle);
  }

  /**
   * The handles the request being built must drop, after its points: its points may still include the evicted
   * series' earlier ones. Call releaseHandles() once that request is sent.
   */
  takeEvictedHandles(): number[] {
    const handles = this.evictedHandles;
    this.evictedHandles = [];
    return handles;
  }

  /** The request dropping these handles was sent: any later request may load a new series under them. */
  releaseHandles(handles: readonly number[]): void {
    this.freeHandles.push(...handles);
  }
  /** Counts a point of the series (its verdict is counted by PointsToObserve.judged()); the series is dirty from now. */
  count(series: ModelledSeries, value: number, now: number): void {
    countPoint(series.counters, value);
    if (!series.dirty) {
      series.dirty = true;
      series.dirtySince = now;
      this.dirty.add(series);
    }
    series.pointsSinceSnapshot++;
  }

  /** The series' stored row will reflect the log up to `logId`: its snapshot is requested with the points up to it. */
  markSnapshotted(series: ModelledSeries, logId: number): void {
    series.snapshotId = logId;
    series.dirty = false;
    series.pointsSinceSnapshot = 0;
    this.dirty.delete(series);
  }

  /** Marks these series' detectors past their warm-up (a handle whose series was evicted meanwhile is skipped). */
  markReady(handles: readonly number[]): void {
    for (const handle of handles) {
      const series = this.byHandle[handle];
      if (series) series.trained = true;
    }
  }

  /** Where a reload must start replaying: the lowest snapshot id of a dirty series, else `upTo`. */
  replayFloor(upTo: number): number {
    let floor = upTo;
    for (const series of this.dirty) if (series.snapshotId < floor) floor = series.snapshotId;
    return floor;
  }
}

/**
 * The series among these whose detector the DetectionThread does not hold yet (restored by a reload, or new),
 * to load with the request being built; from now on the thread holds them.
 */
export function detectorsToLoad(series: Iterable<ModelledSeries>): SeriesToLoad[] {
  const load: SeriesToLoad[] = [];
  for (const one of series) {
    if (one.loaded) continue;
    load.push({ handle: one.handle, state: one.storedState });
    one.loaded = true;
    one.storedState = null;
  }
  return load;
}
