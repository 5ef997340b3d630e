import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { EventItem, Tags } from '../ingest/ingest.types.js';
import { InternalEvents } from '../ingest/internal-events.js';
import { ConsumerPositionsRepository } from '../storage/consumer-positions.repository.js';
import type { Db, Tx } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { IngestLogRepository, type LogEntry } from '../storage/ingest-log.repository.js';
import type { DerivedStateConsumer } from '../storage/log-consumers.js';
import { AnomalyStoreRepository, POINTS_OVER_CAP, type NewAnomaly, type SeriesSnapshotRow } from './anomaly-store.repository.js';
import { AnomaliesMetrics } from './anomalies.metrics.js';
import { SeriesDetector, type DetectorSettings, type ForestModel, type PointVerdict, type SeriesDetectorState } from './detection/index.js';
import { ForestTrainer } from './forest-trainer.js';
import { countPoint, emptyCounters, mergeCounters, type SeriesCounters } from './series-counters.js';
import { pointOf, seriesIdentity, type SeriesPoint, type SeriesSource } from './series-identity.js';

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
/** Trainings handed to the ForestTrainer at once: bounds what a reload or shutdown waits behind. */
const TRAININGS_PER_ROUND = 32;
const MAX_EVENT_TAGS = 32;

/** One modelled series. `snapshotId`, `dirty`... describe its stored snapshot relative to memory. */
export interface ModelledSeries {
  key: string;
  id: string;
  source: SeriesSource;
  metric: string;
  tags: Tags;
  muted: boolean;
  /** Null until first needed after a reload (restored lazily from storedState). */
  detector: SeriesDetector | null;
  storedState: string | null;
  counters: SeriesCounters;
  trained: boolean;
  /** The detector state and counters of the stored row reflect the log entries <= snapshotId. */
  snapshotId: number;
  /** Points after snapshotId are in memory only (committed or in the open batch). */
  dirty: boolean;
  dirtySince: number;
  pointsSinceSnapshot: number;
  /** Trained after the stored snapshot: its next batch must snapshot it (see the class comment). */
  trainedSinceSnapshot: boolean;
}

interface StoredCounters extends SeriesCounters {
  trained: boolean;
}

/** The in-memory models; a reload builds a new one and swaps it in at once. */
class SeriesModels {
  readonly series = new Map<string, ModelledSeries>();
  /** Series with points not in their stored snapshot, in the order they became so. */
  readonly dirty = new Set<ModelledSeries>();
  readonly trainingDue = new Set<ModelledSeries>();
}

export interface AnomalyReport {
  series: number;
  modelsTrained: number;
  pointsOverCap: number;
  seriesOverCap: number;
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
 * Points of series over the cap are counted (durably, in anomaly_state) and not modelled.
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
  private models = new SeriesModels();
  private pointsOverCap = 0;
  private readonly refused = new Set<string>();
  /** Every entry of our kinds with id <= this is reflected in memory (when no batch is in flight). */
  private lastAppliedId = 0;
  private inFlight = false;
  private reloading = false;
  /** A checkpoint failed after changing memory: the next batch reloads first. */
  private suspect = false;
  private announcements: NewAnomaly[] = [];
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
    private readonly trainer: ForestTrainer,
  ) {
    this.settings = { sensitivity: config.anomalies.sensitivity };
    this.muted = new Set(config.anomalies.mutedMetrics);
    this.maxSeries = config.anomalies.maxSeries;
  }

  async apply(entries: LogEntry[], trx: Tx): Promise<void> {
    if (this.suspect) await this.reload(trx);
    this.inFlight = true;
    const now = this.clock.now();
    const models = this.models;
    const batchEnd = entries[entries.length - 1]!.id;
    const created: ModelledSeries[] = [];
    const touched = new Set<ModelledSeries>();
    const anomalies: NewAnomaly[] = [];
    const overCapBefore = this.pointsOverCap;
    // From here to the snapshots nothing awaits: training (a timer) cannot run between
    // a series' points of this batch and its snapshot decision.
    for (const entry of entries) {
      const point = pointOf(entry);
      if (!point) continue;
      let series = models.series.get(point.key);
      if (!series) {
        if (models.series.size >= this.maxSeries) {
          this.pointsOverCap++;
          if (this.refused.size < MAX_REMEMBERED_REFUSED) this.refused.add(point.key);
          continue;
        }
        series = this.newSeries(point, entry.id - 1);
        models.series.set(point.key, series);
        created.push(series);
      }
      touched.add(series);
      const verdict = this.observe(models, series, point, now);
      if (verdict?.anomalous && !series.muted) {
        series.counters.anomalies++;
        anomalies.push({
          logId: entry.id,
          seriesId: series.id,
          metric: series.metric,
          tags: series.tags,
          pointTime: point.timestamp,
          value: point.value,
          score: verdict.score,
          expected: verdict.expected,
          severity: verdict.severity,
          methods: verdict.methods,
        });
      }
    }

    const rows: SeriesSnapshotRow[] = [];
    const snapshotted = new Set<ModelledSeries>();
    for (const series of touched) {
      if (series.trainedSinceSnapshot || series.pointsSinceSnapshot >= SNAPSHOT_EVERY_POINTS || now - series.dirtySince >= SNAPSHOT_MAX_AGE_MS) {
        rows.push(this.snapshot(models, series, batchEnd));
        snapshotted.add(series);
      }
      if (series.detector?.isTrainingDue()) models.trainingDue.add(series);
    }
    let swept = 0;
    for (const series of [...models.dirty]) {
      if (swept >= SWEEP_PER_BATCH || now - series.dirtySince < SNAPSHOT_MAX_AGE_MS) break;
      rows.push(this.snapshot(models, series, batchEnd));
      snapshotted.add(series);
      swept++;
    }
    for (const series of created) if (!snapshotted.has(series)) rows.push(this.creationRow(series));
    const replayFrom = this.replayFloor(models, batchEnd);

    await this.store.saveSeries(trx, rows, now);
    if (this.pointsOverCap !== overCapBefore) await this.store.setStateValue(trx, POINTS_OVER_CAP, this.pointsOverCap);
    await this.positions.set(trx, ANOMALY_REPLAY_POSITION, replayFrom, now);
    const inserted = anomalies.length > 0 ? await this.store.insertAnomalies(trx, anomalies, now) : new Set<number>();
    const announced = anomalies.filter((anomaly) => inserted.has(anomaly.logId));
    // Last: on Postgres appending takes the ingest log's append lock until commit.
    await this.internalEvents.append(trx, announced.map((anomaly) => this.eventOf(anomaly, now)));
    this.announcements = announced;
    this.lastAppliedId = batchEnd;
  }

  afterCommit(): void {
    this.inFlight = false;
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
    try {
      const now = this.clock.now();
      const position = await this.positions.get(ANOMALY_CONSUMER, trx);
      const replayFrom = await this.positions.get(ANOMALY_REPLAY_POSITION, trx);
      const models = new SeriesModels();
      for await (const row of this.store.allSeries(trx)) {
        const series = this.restoredSeries(row);
        models.series.set(series.key, series);
      }
      let after = replayFrom;
      for (;;) {
        const entries = await this.log.readAfter(trx, after, position, KINDS, REPLAY_CHUNK);
        for (const entry of entries) {
          const point = pointOf(entry);
          // Unknown series: over the cap when its points were applied (already counted).
          const series = point ? models.series.get(point.key) : undefined;
          if (!point || !series || entry.id <= series.snapshotId) continue;
          const verdict = this.observe(models, series, point, now);
          if (verdict?.anomalous && !series.muted) series.counters.anomalies++;
        }
        if (entries.length < REPLAY_CHUNK) break;
        after = entries[entries.length - 1]!.id;
      }
      for (const series of models.dirty) if (series.detector?.isTrainingDue()) models.trainingDue.add(series);
      this.pointsOverCap = await this.store.stateValue(trx, POINTS_OVER_CAP);
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
   * Retrains every series whose model is due, on the ForestTrainer's worker thread, in rounds
   * of at most TRAININGS_PER_ROUND, until none is due (called by the scheduled job, never on
   * the ingest path). Resolves with how many models were installed; rejects, after installing
   * the rest of its round, when a training failed (that series stays due). A call while a
   * previous one runs joins it.
   *
   * Exactly once still holds: a model is installed in a continuation of its own, so between
   * batches, never between a batch's points and its snapshot decisions, and installing marks
   * the series trainedSinceSnapshot, so the next batch that touches it snapshots it.
   */
  trainDue(): Promise<number> {
    this.training ??= this.trainRounds().finally(() => (this.training = undefined));
    return this.training;
  }

  private async trainRounds(): Promise<number> {
    let trained = 0;
    for (;;) {
      if (this.reloading) return trained;
      const models = this.models;
      const round: Array<{ series: ModelledSeries; model: ForestModel }> = [];
      for (const series of models.trainingDue) {
        if (round.length >= TRAININGS_PER_ROUND) break;
        models.trainingDue.delete(series);
        const detector = this.detectorOf(series);
        const model = detector.isTrainingDue() ? detector.trainingRequest() : null;
        if (model) round.push({ series, model });
      }
      if (round.length === 0) return trained;
      const forests = await Promise.allSettled(round.map(({ model }) => this.trainer.train(model)));
      let failure: unknown;
      let installed = 0;
      for (const [index, { series, model }] of round.entries()) {
        const forest = forests[index]!;
        // A reload since the request replaced these models: what it restored trains anew.
        if (models !== this.models) break;
        if (forest.status === 'rejected') {
          failure ??= forest.reason;
          models.trainingDue.add(series);
          continue;
        }
        this.detectorOf(series).installModel(model, forest.value);
        series.trained = true;
        series.trainedSinceSnapshot = true;
        installed++;
      }
      if (installed > 0) this.metrics.trainings.inc(installed);
      trained += installed;
      if (failure !== undefined) throw failure;
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
        const rows: SeriesSnapshotRow[] = [];
        for (const series of [...models.dirty]) {
          if (now - series.dirtySince >= minAgeMs) rows.push(this.snapshot(models, series, position));
        }
        if (rows.length === 0) return 0;
        try {
          await this.store.saveSeries(trx, rows, now);
          await this.positions.set(trx, ANOMALY_REPLAY_POSITION, this.replayFloor(models, position), now);
        } catch (error) {
          this.suspect = true;
          throw error;
        }
        return rows.length;
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
    return { series: this.models.series.size, modelsTrained, pointsOverCap: this.pointsOverCap, seriesOverCap: this.refused.size, metrics };
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

  private newSeries(point: SeriesPoint, snapshotId: number): ModelledSeries {
    return {
      key: point.key,
      id: seriesIdOf(point.key),
      source: point.source,
      metric: point.metric,
      tags: point.tags,
      muted: this.muted.has(point.metric),
      detector: SeriesDetector.create(this.settings),
      storedState: null,
      counters: emptyCounters(),
      trained: false,
      snapshotId,
      dirty: false,
      dirtySince: 0,
      pointsSinceSnapshot: 0,
      trainedSinceSnapshot: false,
    };
  }

  private restoredSeries(row: SeriesSnapshotRow): ModelledSeries {
    const source = row.source === 'request' ? 'request' : 'metric';
    const key = seriesIdentity(source, row.metric, row.tags);
    const { trained, ...counters } = JSON.parse(row.counters) as StoredCounters;
    return {
      key,
      id: row.seriesId,
      source,
      metric: row.metric,
      tags: row.tags,
      muted: this.muted.has(row.metric),
      detector: null,
      storedState: row.state,
      counters,
      trained,
      snapshotId: row.snapshotId,
      dirty: false,
      dirtySince: 0,
      pointsSinceSnapshot: 0,
      trainedSinceSnapshot: false,
    };
  }

  private detectorOf(series: ModelledSeries): SeriesDetector {
    if (!series.detector) {
      series.detector = series.storedState
        ? SeriesDetector.restore(this.settings, JSON.parse(series.storedState) as SeriesDetectorState)
        : SeriesDetector.create(this.settings);
      series.storedState = null;
    }
    return series.detector;
  }

  /** Counts the point and runs it through the detector; the verdict is null for a point the model ignored. */
  private observe(models: SeriesModels, series: ModelledSeries, point: SeriesPoint, now: number): PointVerdict | null {
    const detector = this.detectorOf(series);
    countPoint(series.counters, point.value);
    if (!series.dirty) {
      series.dirty = true;
      series.dirtySince = now;
      models.dirty.add(series);
    }
    series.pointsSinceSnapshot++;
    const before = detector.pointsSeen;
    const verdict = detector.observe(point.timestamp, point.value);
    if (detector.pointsSeen === before) return null;
    series.counters.modelled++;
    return verdict;
  }

  private snapshot(models: SeriesModels, series: ModelledSeries, logId: number): SeriesSnapshotRow {
    const detector = this.detectorOf(series);
    series.snapshotId = logId;
    series.dirty = false;
    series.pointsSinceSnapshot = 0;
    series.trainedSinceSnapshot = false;
    models.dirty.delete(series);
    return {
      seriesId: series.id,
      source: series.source,
      metric: series.metric,
      tags: series.tags,
      snapshotId: logId,
      state: JSON.stringify(detector.snapshot()),
      counters: JSON.stringify({ ...series.counters, trained: series.trained } satisfies StoredCounters),
    };
  }

  private creationRow(series: ModelledSeries): SeriesSnapshotRow {
    return {
      seriesId: series.id,
      source: series.source,
      metric: series.metric,
      tags: series.tags,
      snapshotId: series.snapshotId,
      state: null,
      counters: JSON.stringify({ ...emptyCounters(), trained: false } satisfies StoredCounters),
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
