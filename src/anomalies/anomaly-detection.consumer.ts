import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { EventItem, Tags } from '../ingest-log/ingest-log.items.js';
import { InternalEvents } from '../ingest/internal-events.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Db, Tx } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import { type LogEntry } from '../ingest-log/log-entry.js';
import type { DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import {
  AnomalyStoreRepository,
  DATA_TIME,
  POINTS_OVER_CAP,
  SERIES_EVICTED,
  type NewAnomaly,
  type SeriesSnapshotRow,
} from './anomaly-store.repository.js';
import { AnomaliesMetrics } from './anomalies.metrics.js';
import type { DetectorSettings } from './detection/index.js';
import type { ObserveRequest, ObserveResult, SeriesToLoad, TrainResult } from './detection/series-detector-set.js';
import { DetectionThread } from './detection-thread.js';
import { countPoint, emptyCounters, mergeCounters, type SeriesCounters } from './series-counters.js';
import { identityText, pointOf, seriesIdentity, type SeriesPoint } from './series-identity.js';
import { SeriesModels, type ModelledSeries } from './series-models.js';

export const ANOMALY_CONSUMER = 'anomalies';
/**
 * Second consumer position (registered with ConsumerRegistry, so retention keeps every entry
 * after it): the lowest snapshot id of any series with committed points after its snapshot,
 * i.e. where a reload has to start replaying the log.
 */
export const ANOMALY_REPLAY_POSITION = 'anomalies-replay';
const KINDS = ['metric', 'request'] as const;

/** A touched series is snapshotted once this many points are not in its stored snapshot... */
export const SNAPSHOT_EVERY_POINTS = 2000;
/** ...or once it has had unsnapshotted points this long (also swept for untouched series). */
export const SNAPSHOT_MAX_AGE_MS = 60_000;
/** Untouched series snapshotted per batch by the age sweep (the rest wait for the next batch or checkpoint). */
const SWEEP_PER_BATCH = 200;
/** Distinct refused series remembered for the over-cap gauge; past it the gauge stops growing. */
const MAX_REMEMBERED_REFUSED = 100_000;
/** Log lines per batch for detected anomalies; past it, one summary line. */
const MAX_ANOMALY_LOG_LINES = 100;
const REPLAY_CHUNK = 5000;
/** Series trained per request to the DetectionThread: bounds how long a batch waits behind a round. */
const TRAININGS_PER_ROUND = 32;
const MAX_EVENT_TAGS = 32;

interface StoredCounters extends SeriesCounters {
  trained: boolean;
  /** ModelledSeries.lastPointId and newestPointTime as of the snapshot (absent in rows of earlier versions). */
  lastPointId?: number;
  newestPointTime?: number | null;
}

export interface AnomalyReport {
  series: number;
  modelsTrained: number;
  pointsOverCap: number;
  seriesOverCap: number;
  seriesEvicted: number;
  metrics: Map<string, SeriesCounters>;
}

function seriesIdOf(key: string): string {
  return createHash('sha1').update(key).digest('hex');
}

function limitedTags(tags: Tags, extra: Tags): Tags {
  const result: Tags = {};
  const own = Object.keys(tags).filter((name) => !(name in extra)).slice(0, MAX_EVENT_TAGS - Object.keys(extra).length);
  for (const name of own) result[name] = tags[name]!;
  return { ...result, ...extra };
}

function describeTags(tags: Tags): string {
  const names = Object.keys(tags).sort();
  return names.length === 0 ? '' : `{${names.map((name) => `${name}=${tags[name]}`).join(', ')}}`;
}

/** A batch run through the detectors: what its transaction writes. */
interface DetectedBatch {
  entries: LogEntry[];
  now: number;
  batchEnd: number;
  rows: SeriesSnapshotRow[];
  anomalies: NewAnomaly[];
  replayFrom: number;
  overCapChanged: boolean;
  /** Ids of the series evicted by this batch: their rows are deleted (before `rows` are written). */
  evictedIds: string[];
  dataTimeChanged: boolean;
}

/** The points of one observe request, with the series and log entry of each, to read its result back. */
class PointsToObserve {
  readonly series: ModelledSeries[] = [];
  private readonly logIds: number[] = [];
  private readonly handles: Int32Array;
  private readonly timestamps: Float64Array;
  private readonly values: Float64Array;

  constructor(capacity: number) {
    this.handles = new Int32Array(capacity);
    this.timestamps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.series.length;
  }

  add(series: ModelledSeries, logId: number, point: SeriesPoint): void {
    const index = this.series.length;
    this.series.push(series);
    this.logIds.push(logId);
    this.handles[index] = series.handle;
    this.timestamps[index] = point.timestamp;
    this.values[index] = point.value;
  }

  request(load: SeriesToLoad[], snapshot: readonly ModelledSeries[], drop: number[] = []): ObserveRequest {
    const size = this.size;
    return {
      load,
      drop,
      handles: this.handles.subarray(0, size),
      timestamps: this.timestamps.subarray(0, size),
      values: this.values.subarray(0, size),
      snapshot: snapshot.map((series) => series.handle),
    };
  }

  /** Counts each modelled point and each anomaly into its series; returns the anomalies of series not muted. */
  judged(result: ObserveResult): NewAnomaly[] {
    for (let index = 0; index < result.modelled.length; index++) if (result.modelled[index] === 1) this.series[index]!.counters.modelled++;
    const anomalies: NewAnomaly[] = [];
    for (const { index, score, expected, severity, methods } of result.anomalies) {
      const series = this.series[index]!;
      if (series.muted) continue;
      series.counters.anomalies++;
      anomalies.push({
        logId: this.logIds[index]!,
        seriesId: series.id,
        metric: series.metric,
        tags: series.tags,
        pointTime: this.timestamps[index]!,
        value: this.values[index]!,
        score,
        expected,
        severity,
        methods,
      });
    }
    return anomalies;
  }
}

/**
 * Anomaly detection over the ingest log: one SeriesDetector per metric series (name + sorted
 * tags) and per service's request latency (metric REQUEST_LATENCY_METRIC, tag service), each
 * point judged by its own timestamp. Anomalies are stored, announced as events (same
 * transaction) and, after commit, logged and counted.
 *
 * Exactly once across crashes, without writing every touched series' ~37 KB state per batch:
 * - A series' stored row (detector snapshot + report counters) reflects the log entries up to
 *   its `snapshot_id`. A new series gets a row at once (state null, snapshot_id = its first
 *   entry - 1), so the set of modelled series (and so the cap) is durable. A touched series is
 *   snapshotted in the batch transaction when it was trained since its snapshot, has
 *   SNAPSHOT_EVERY_POINTS new points, or has had new points for SNAPSHOT_MAX_AGE_MS; a periodic
 *   checkpoint and shutdown snapshot the rest.
 * - reload() restores every row and replays, into each series only, the entries after its
 *   snapshot_id up to the consumer position (from ANOMALY_REPLAY_POSITION, the lowest such id).
 *   Replayed points are re-counted (the counters were stored as of snapshot_id) but their
 *   anomalies are not stored or announced again (those rows committed with the batch).
 * - Replay reproduces exactly what the lost memory held because training, the only input that
 *   is not a log entry, never happens between a series' snapshot and a committed point of it:
 *   training runs between batches, and a series trained since its snapshot is snapshotted by
 *   the next batch that touches it, in that batch's transaction. Reload blocks training.
 * - Anomaly rows are unique by log id and inserted ignoring conflicts; events, logs and the
 *   Prometheus counter follow only rows really inserted.
 *
 * The cap (VIGIL_ANOMALY_MAX_SERIES): a point of a new series evicts the series touched least
 * recently (by log order) when that series' newest point is at least VIGIL_ANOMALY_SERIES_IDLE_SECONDS
 * older than the data time, the newest timestamp of every metric and request point applied so far
 * (this one included). Both come from the log alone, never the wall clock, so a reload, replaying
 * the same entries, takes the same decisions and gives the same verdicts. The evicted series' row
 * is deleted in the batch transaction (the points it judged earlier in the batch keep their
 * anomalies); should the series come back, it starts a new model. Otherwise the point is refused:
 * counted (durably, in anomaly_state) and not modelled. The data time, the eviction count and each
 * series' last point are stored with the snapshots, so a reload restores them exactly.
 */
@Injectable()
export class AnomalyDetectionConsumer implements DerivedStateConsumer {
  readonly name = ANOMALY_CONSUMER;
  readonly kinds = KINDS;
  readonly batchSize = 5000;

  private readonly logger = new Logger('Anomalies');
  private readonly settings: DetectorSettings;
  private readonly muted: Set<string>;
  private readonly maxSeries: number;
  private readonly idleMs: number;
  private models = new SeriesModels();
  private pointsOverCap = 0;
  /** Series evicted since the store began (durable); `evictedInBatch` of them by the batch in flight. */
  private seriesEvicted = 0;
  private evictedInBatch = 0;
  private readonly refused = new Set<string>();
  /** Every entry of our kinds with id <= this is reflected in memory (when no batch is in flight). */
  private lastAppliedId = 0;
  private inFlight = false;
  private reloading = false;
  /** A checkpoint failed after changing memory: the next batch reloads first. */
  private suspect = false;
  private announcements: NewAnomaly[] = [];
  /** The batch prepare() ran through the detectors, for apply() to write. */
  private prepared: DetectedBatch | undefined;
  private training: Promise<number> | undefined;

  constructor(
    @Inject(DATABASE) private readonly db: Db,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: AnomalyStoreRepository,
    private readonly log: IngestLogRepository,
    private readonly positions: ConsumerPositionsRepository,
    private readonly internalEvents: InternalEvents,
    private readonly metrics: AnomaliesMetrics,
    private readonly clock: Clock,
    private readonly thread: DetectionThread,
  ) {
    // A lost thread took the detectors with it: the next batch reloads them in its transaction
    // (apply() does when suspect), instead of failing on a thread that refuses until reset.
    thread.onLost(() => {
      this.suspect = true;
    });
    this.settings = { sensitivity: config.anomalies.sensitivity };
    this.muted = new Set(config.anomalies.mutedMetrics);
    this.maxSeries = config.anomalies.maxSeries;
    this.idleMs = config.anomalies.seriesIdleSeconds * 1000;
  }

  /**
   * Runs the batch through the detectors before its transaction opens (see
   * DerivedStateConsumer.prepare): the thread's work never holds the store. Skipped when the
   * models must be reloaded first; apply() then does both in its transaction.
   */
  async prepare(entries: LogEntry[]): Promise<void> {
    if (this.suspect || this.reloading) return;
    this.prepared = await this.detect(entries);
  }

  abandon(): void {
    this.prepared = undefined;
    this.suspect = true;
  }

  async apply(entries: LogEntry[], trx: Tx): Promise<void> {
    let batch = this.prepared;
    this.prepared = undefined;
    // Prepared for other entries: those points are in the detectors but will never commit.
    if (batch && batch.entries !== entries) {
      this.suspect = true;
      batch = undefined;
    }
    if (!batch) {
      if (this.suspect) await this.reload(trx);
      batch = await this.detect(entries);
    }
    const { now, rows, anomalies, replayFrom, overCapChanged, evictedIds, dataTimeChanged } = batch;
    if (evictedIds.length > 0) {
      await this.store.deleteSeries(trx, evictedIds);
      await this.store.setStateValue(trx, SERIES_EVICTED, this.seriesEvicted);
    }
    await this.store.saveSeries(trx, rows, now);
    if (overCapChanged) await this.store.setStateValue(trx, POINTS_OVER_CAP, this.pointsOverCap);
    if (dataTimeChanged) await this.store.setStateValue(trx, DATA_TIME, this.models.dataTime);
    await this.positions.set(trx, ANOMALY_REPLAY_POSITION, replayFrom, now);
    const inserted = anomalies.length > 0 ? await this.store.insertAnomalies(trx, anomalies, now) : new Set<number>();
    const announced = anomalies.filter((anomaly) => inserted.has(anomaly.logId));
    // Last: on Postgres appending takes the ingest log's append lock until commit.
    await this.internalEvents.append(trx, announced.map((anomaly) => this.eventOf(anomaly, now)));
    this.announcements = announced;
    this.lastAppliedId = batch.batchEnd;
  }

  /** The batch's points through the detectors, and what its transaction must write. */
  private async detect(entries: LogEntry[]): Promise<DetectedBatch> {
    this.inFlight = true;
    const now = this.clock.now();
    const models = this.models;
    const batchEnd = entries[entries.length - 1]!.id;
    const created: ModelledSeries[] = [];
    const touched = new Set<ModelledSeries>();
    const points = new PointsToObserve(entries.length);
    const overCapBefore = this.pointsOverCap;
    const dataTimeBefore = models.dataTime;
    const evictedIds: string[] = [];
    // From here to the observe request nothing awaits: every decision about this batch's
    // snapshots is taken before a training round can mark a series trained (see trainDue()).
    for (const entry of entries) {
      const point = pointOf(entry);
      if (!point) continue;
      if (point.timestamp > models.dataTime) models.dataTime = point.timestamp;
      let series = models.find(point.identity);
      if (typeof series === 'string') {
        if (models.series.size >= this.maxSeries) {
          const idlest = models.idlest(this.idleMs);
          if (!idlest) {
            this.pointsOverCap++;
            if (this.refused.size < MAX_REMEMBERED_REFUSED) this.refused.add(series);
            continue;
          }
          models.evict(idlest);
          evictedIds.push(idlest.id);
        }
        series = this.newSeries(models, point, series, entry.id - 1);
        created.push(series);
      }
      touched.add(series);
      this.count(models, series, point.value, now);
      models.touch(series, entry.id, point.timestamp);
      points.add(series, entry.id, point);
    }
    this.seriesEvicted += evictedIds.length;
    this.evictedInBatch = evictedIds.length;

    const snapshotted: ModelledSeries[] = [];
    for (const series of touched) {
      // Evicted later in the batch: its row is deleted, its detector dropped after its points.
      if (!models.holds(series)) continue;
      if (series.trainedSinceSnapshot || series.pointsSinceSnapshot >= SNAPSHOT_EVERY_POINTS || now - series.dirtySince >= SNAPSHOT_MAX_AGE_MS) {
        this.markSnapshotted(models, series, batchEnd);
        snapshotted.push(series);
      }
    }
    let swept = 0;
    for (const series of [...models.dirty]) {
      if (swept >= SWEEP_PER_BATCH || now - series.dirtySince < SNAPSHOT_MAX_AGE_MS) break;
      this.markSnapshotted(models, series, batchEnd);
      snapshotted.push(series);
      swept++;
    }
    const replayFrom = this.replayFloor(models, batchEnd);
    const drop = models.takeEvictedHandles();
    const observing = this.thread.observe(points.request(this.toLoad([...touched, ...snapshotted]), snapshotted, drop));
    // Sent: the thread drops these detectors before it reads any later request, which may reuse the handles.
    models.releaseHandles(drop);
    const observed = await observing;

    const anomalies = points.judged(observed);
    this.markDue(models, observed.due);
    const rows = this.snapshotRows(models, observed);
    const snapshottedSet = new Set(snapshotted);
    for (const series of created) if (!snapshottedSet.has(series) && models.holds(series)) rows.push(this.creationRow(series));
    return {
      entries,
      now,
      batchEnd,
      rows,
      anomalies,
      replayFrom,
      overCapChanged: this.pointsOverCap !== overCapBefore,
      evictedIds,
      dataTimeChanged: models.dataTime !== dataTimeBefore,
    };
  }

  afterCommit(): void {
    this.inFlight = false;
    if (this.evictedInBatch > 0) this.metrics.seriesEvicted.inc(this.evictedInBatch);
    this.evictedInBatch = 0;
    const announced = this.announcements;
    this.announcements = [];
    for (const [index, anomaly] of announced.entries()) {
      this.metrics.countDetected(anomaly.metric);
      if (index >= MAX_ANOMALY_LOG_LINES) continue;
      this.logger.warn(
        {
          event_type: 'anomaly_detected',
          metric: anomaly.metric,
          tags: anomaly.tags,
          timestamp: new Date(anomaly.pointTime).toISOString(),
          value: anomaly.value,
          expected: anomaly.expected,
          score: anomaly.score,
          severity: anomaly.severity,
          methods: anomaly.methods,
        },
        `Anomaly in ${anomaly.metric}${describeTags(anomaly.tags)}: ${anomaly.value} (expected ${anomaly.expected.toPrecision(6)}, severity ${anomaly.severity})`,
      );
    }
    if (announced.length > MAX_ANOMALY_LOG_LINES) {
      this.logger.warn(
        { event_type: 'anomalies_detected_summary', anomalies: announced.length, not_logged: announced.length - MAX_ANOMALY_LOG_LINES },
        `${announced.length} anomalies detected in one batch; ${announced.length - MAX_ANOMALY_LOG_LINES} of them are not logged one by one (see /anomalies)`,
      );
    }
  }

  async reload(trx: Tx): Promise<void> {
    this.reloading = true;
    // Until this reload completes, the thread's detectors match neither the old models nor the new.
    this.suspect = true;
    try {
      const now = this.clock.now();
      const position = await this.positions.get(ANOMALY_CONSUMER, trx);
      const replayFrom = await this.positions.get(ANOMALY_REPLAY_POSITION, trx);
      await this.thread.reset(this.settings);
      const models = new SeriesModels();
      for await (const row of this.store.allSeries(trx)) this.restoredSeries(models, row);
      let after = replayFrom;
      for (;;) {
        const entries = await this.log.readAfter(trx, after, position, KINDS, REPLAY_CHUNK);
        const points = new PointsToObserve(entries.length);
        for (const entry of entries) {
          const point = pointOf(entry);
          // Unknown series: over the cap when its points were applied (already counted).
          const series = point ? models.find(point.identity) : undefined;
          if (!point || series === undefined || typeof series === 'string' || entry.id <= series.snapshotId) continue;
          this.count(models, series, point.value, now);
          models.touch(series, entry.id, point.timestamp);
          points.add(series, entry.id, point);
        }
        if (points.size > 0) {
          const touched = [...new Set(points.series)];
          const observed = await this.thread.observe(points.request(this.toLoad(touched), []));
          // Replayed anomalies are counted again (the counters are as of each snapshot), not stored again.
          points.judged(observed);
          this.markDue(models, observed.due);
        }
        if (entries.length < REPLAY_CHUNK) break;
        after = entries[entries.length - 1]!.id;
      }
      models.orderByLastPoint();
      models.dataTime = (await this.store.stateValueOrNull(trx, DATA_TIME)) ?? Number.NEGATIVE_INFINITY;
      this.pointsOverCap = await this.store.stateValue(trx, POINTS_OVER_CAP);
      this.seriesEvicted = await this.store.stateValue(trx, SERIES_EVICTED);
      this.evictedInBatch = 0;
      this.models = models;
      this.lastAppliedId = position;
      this.inFlight = false;
      this.suspect = false;
      this.announcements = [];
    } finally {
      this.reloading = false;
    }
  }

  /**
   * Retrains every series whose model is due, on the DetectionThread, in rounds of at most
   * TRAININGS_PER_ROUND, until none is due (called by the scheduled job, never on the ingest
   * path). Resolves with how many models were installed; rejects, after installing the rest
   * of its round, when a training failed (that series stays due). A call while a previous one
   * runs joins it.
   *
   * Exactly once still holds: the thread handles requests one at a time in the order sent, so
   * a training falls between two batches' points, never between a batch's points and its
   * snapshots; and the series of a round are marked trainedSinceSnapshot when it is sent, so
   * the next batch sent after it snapshots them.
   */
  trainDue(): Promise<number> {
    this.training ??= this.trainRounds().finally(() => (this.training = undefined));
    return this.training;
  }

  private async trainRounds(): Promise<number> {
    let trained = 0;
    for (;;) {
      if (this.reloading || this.suspect) return trained;
      const models = this.models;
      const round: ModelledSeries[] = [];
      for (const series of models.trainingDue) {
        if (round.length >= TRAININGS_PER_ROUND) break;
        models.trainingDue.delete(series);
        round.push(series);
        // Marked before the request is sent: the thread handles it before the next batch's
        // points, so that batch must snapshot these series (at worst one needless snapshot
        // for a series the thread finds not due).
        series.trainedSinceSnapshot = true;
      }
      if (round.length === 0) return trained;
      let result: TrainResult;
      try {
        result = await this.thread.train({ load: this.toLoad(round), handles: round.map((series) => series.handle) });
      } catch (error) {
        // The thread may have lost its detectors: reload before the next batch.
        if (models === this.models) {
          this.suspect = true;
          for (const series of round) models.trainingDue.add(series);
        }
        throw error;
      }
      // A reload since the request replaced these models: what it restored trains anew.
      if (models !== this.models) return trained;
      // A series evicted while its round ran has no entry any more (its handle is reused only after the
      // request dropping it is answered, which the thread does after this round).
      for (const handle of result.trained) {
        const series = models.byHandle[handle];
        if (series) series.trained = true;
      }
      this.markDue(models, result.failed.map(({ handle }) => handle));
      if (result.trained.length > 0) this.metrics.trainings.inc(result.trained.length);
      trained += result.trained.length;
      if (result.failed.length > 0) throw new Error(`training failed for ${result.failed.length} series: ${result.failed[0]!.reason}`);
    }
  }

  /**
   * Snapshots series with points not in their stored snapshot for at least `minAgeMs` (0: all)
   * in a transaction of its own. Done only when memory is known to reflect the consumer
   * position (no batch in flight, no entry of our kinds after the last applied one), and on
   * Postgres only while this replica can lock the consumer. Returns how many were written.
   */
  async checkpoint(minAgeMs: number): Promise<number> {
    if (this.reloading || this.inFlight || this.suspect || this.models.dirty.size === 0) return 0;
    const models = this.models;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const position = await this.positions.lock(trx, ANOMALY_CONSUMER);
        if (position === null || position < this.lastAppliedId) return 0;
        const newer = await this.log.readAfter(trx, this.lastAppliedId, position, KINDS, 1);
        if (newer.length > 0 || this.inFlight || this.reloading || this.suspect || models !== this.models) return 0;
        const now = this.clock.now();
        const due = [...models.dirty].filter((series) => now - series.dirtySince >= minAgeMs);
        if (due.length === 0) return 0;
        for (const series of due) this.markSnapshotted(models, series, position);
        try {
          const observed = await this.thread.observe(new PointsToObserve(0).request(this.toLoad(due), due));
          await this.store.saveSeries(trx, this.snapshotRows(models, observed), now);
          await this.positions.set(trx, ANOMALY_REPLAY_POSITION, this.replayFloor(models, position), now);
        } catch (error) {
          this.suspect = true;
          throw error;
        }
        return due.length;
      });
    } catch (error) {
      this.suspect = true;
      this.logger.error({ err: error }, 'Anomaly checkpoint failed; the models are reloaded from the store before the next batch');
      return 0;
    }
  }

  report(): AnomalyReport {
    const metrics = new Map<string, SeriesCounters>();
    let modelsTrained = 0;
    for (const series of this.models.series.values()) {
      if (series.trained) modelsTrained++;
      let total = metrics.get(series.metric);
      if (!total) metrics.set(series.metric, (total = emptyCounters()));
      mergeCounters(total, series.counters);
    }
    return {
      series: this.models.series.size,
      modelsTrained,
      pointsOverCap: this.pointsOverCap,
      seriesOverCap: this.refused.size,
      seriesEvicted: this.seriesEvicted,
      metrics,
    };
  }

  get modelledSeries(): number {
    return this.models.series.size;
  }

  get seriesOverCap(): number {
    return this.refused.size;
  }

  get totalPointsOverCap(): number {
    return this.pointsOverCap;
  }

  get trainingBacklog(): number {
    return this.models.trainingDue.size;
  }

  private newSeries(models: SeriesModels, point: SeriesPoint, key: string, snapshotId: number): ModelledSeries {
    const series: ModelledSeries = {
      key,
      identity: point.identity,
      id: seriesIdOf(key),
      source: point.source,
      metric: point.metric,
      tags: point.tags,
      muted: this.muted.has(point.metric),
      handle: models.nextHandle(),
      loaded: false,
      storedState: null,
      counters: emptyCounters(),
      trained: false,
      snapshotId,
      dirty: false,
      dirtySince: 0,
      pointsSinceSnapshot: 0,
      trainedSinceSnapshot: false,
      lastPointId: snapshotId,
      newestPointTime: Number.NEGATIVE_INFINITY,
    };
    models.add(series);
    return series;
  }

  private restoredSeries(models: SeriesModels, row: SeriesSnapshotRow): ModelledSeries {
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
      muted: this.muted.has(row.metric),
      handle: models.nextHandle(),
      loaded: false,
      storedState: row.state,
      counters,
      trained,
      snapshotId: row.snapshotId,
      dirty: false,
      dirtySince: 0,
      pointsSinceSnapshot: 0,
      trainedSinceSnapshot: false,
      // A row written before eviction existed counts as touched at its snapshot, with no known point
      // time: idle, until its next point.
      lastPointId: lastPointId ?? row.snapshotId,
      newestPointTime: newestPointTime ?? Number.NEGATIVE_INFINITY,
    };
    models.add(series);
    return series;
  }

  /** The series among these whose detector the thread does not hold yet; from now on it does. */
  private toLoad(series: Iterable<ModelledSeries>): SeriesToLoad[] {
    const load: SeriesToLoad[] = [];
    for (const one of series) {
      if (one.loaded) continue;
      load.push({ handle: one.handle, state: one.storedState });
      one.loaded = true;
      one.storedState = null;
    }
    return load;
  }

  /** Counts a point of the series (its verdict is counted by PointsToObserve.judged()). */
  private count(models: SeriesModels, series: ModelledSeries, value: number, now: number): void {
    countPoint(series.counters, value);
    if (!series.dirty) {
      series.dirty = true;
      series.dirtySince = now;
      models.dirty.add(series);
    }
    series.pointsSinceSnapshot++;
  }

  /** The series' stored row will reflect the log up to `logId`: its snapshot is requested with the points up to it. */
  private markSnapshotted(models: SeriesModels, series: ModelledSeries, logId: number): void {
    series.snapshotId = logId;
    series.dirty = false;
    series.pointsSinceSnapshot = 0;
    series.trainedSinceSnapshot = false;
    models.dirty.delete(series);
  }

  /** Marks these series due for training (a handle whose series was evicted meanwhile is skipped). */
  private markDue(models: SeriesModels, handles: readonly number[]): void {
    for (const handle of handles) {
      const series = models.byHandle[handle];
      if (series) models.trainingDue.add(series);
    }
  }

  /** The stored rows of the snapshots the thread returned (their series were marked snapshotted when requested). */
  private snapshotRows(models: SeriesModels, observed: ObserveResult): SeriesSnapshotRow[] {
    return observed.snapshots.map(({ handle, state, trained }) => {
      const series = models.byHandle[handle]!;
      series.trained = trained;
      return this.seriesRow(series, state, { ...series.counters, trained, lastPointId: series.lastPointId, newestPointTime: series.newestPointTime });
    });
  }

  /** The row of a series as created: no point yet as of its snapshot id, the entry before its first point. */
  private creationRow(series: ModelledSeries): SeriesSnapshotRow {
    return this.seriesRow(series, null, { ...emptyCounters(), trained: false, lastPointId: series.snapshotId, newestPointTime: null });
  }

  private seriesRow(series: ModelledSeries, state: SeriesSnapshotRow['state'], counters: StoredCounters): SeriesSnapshotRow {
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

  /** Where a reload must start replaying: the lowest snapshot id of a dirty series, else `upTo`. */
  private replayFloor(models: SeriesModels, upTo: number): number {
    let floor = upTo;
    for (const series of models.dirty) if (series.snapshotId < floor) floor = series.snapshotId;
    return floor;
  }

  private eventOf(anomaly: NewAnomaly, now: number): EventItem {
    const severe = anomaly.severity === 'high' || anomaly.severity === 'critical';
    const at = new Date(anomaly.pointTime).toISOString();
    return {
      title: `Anomaly (${anomaly.severity}): ${anomaly.metric}`.slice(0, 100),
      text: (
        `${anomaly.metric}${describeTags(anomaly.tags)} was ${anomaly.value} at ${at}, expected ${anomaly.expected.toPrecision(6)} ` +
        `(score ${anomaly.score.toFixed(3)}, severity ${anomaly.severity}, methods ${anomaly.methods.join(', ')})`
      ).slice(0, 4000),
      alertType: severe ? 'error' : 'warning',
      tags: limitedTags(anomaly.tags, { metric: anomaly.metric, anomaly_severity: anomaly.severity }),
      timestamp: now,
      source: 'vigil',
    };
  }
}
