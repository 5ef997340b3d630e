import { Inject, Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Tx } from '../storage/database.js';
import type { LogEntry } from '../ingest-log/log-entry.js';
import type { DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import { AnomalyAnnouncer } from './anomaly.announcer.js';
import { ANOMALY_CONSUMER, ANOMALY_KINDS, ANOMALY_REPLAY_POSITION } from './anomaly-log.positions.js';
import { AnomalyModelsCheckpoint } from './anomaly-models.checkpoint.js';
import { AnomalyModelsLoader } from './anomaly-models.loader.js';
import { AnomalyStoreRepository, DATA_TIME, POINTS_OVER_CAP, SERIES_EVICTED, type NewAnomaly } from './anomaly-store.repository.js';
import type { DetectorSettings } from './detection/index.js';
import { DetectionThread } from './detection-thread.client.js';
import { detectedBatch, planBatch, type DetectedBatch, type DetectionPolicy } from './detection-batch.planner.js';
import { emptyCounters, mergeCounters, type SeriesCounters } from './series-counters.js';
import { SeriesModels } from './series-models.js';

export interface AnomalyReport {
  series: number;
  modelsTrained: number;
  pointsOverCap: number;
  seriesOverCap: number;
  seriesEvicted: number;
  metrics: Map<string, SeriesCounters>;
}

/** A batch from the start of its detection until its commit (afterCommit) or abandonment. */
interface BatchInFlight {
  entries: LogEntry[];
  /** Set once the thread answered. */
  detected?: DetectedBatch;
  /** The anomalies its transaction really inserted: published after commit. */
  inserted: NewAnomaly[];
}

/**
 * Anomaly detection over the ingest log, an *apply* consumer of the DerivedStateRunner: one
 * SeriesDetector per metric series (name + sorted tags) and per service's request latency, each point
 * judged by its own timestamp; the detectors live on the DetectionThread. Everything a batch derives
 * (anomaly rows, their events, series snapshots, module state, the replay position) is written in the
 * runner's transaction that advances the consumer position, so it happens exactly once.
 *
 * A batch is detected in prepare(), before that transaction opens (the thread's work never holds the
 * store), and written by apply(). What a crash loses, memory, is rebuilt by reload() from the store:
 * - A series' stored row (detector snapshot + report counters) reflects the log entries up to its
 *   `snapshot_id`. A new series gets a row at once (state null, snapshot_id = its first entry - 1), so
 *   the set of modelled series (and so the cap) is durable. A touched series is snapshotted in the batch
 *   transaction when it has SNAPSHOT_EVERY_POINTS new points, or has had
 *   new points for SNAPSHOT_MAX_AGE_MS (planBatch); a checkpoint snapshots idle series and, at shutdown,
 *   the rest (AnomalyModelsCheckpoint).
 * - A reload restores every row and replays, into each series only, the entries after its snapshot
 *   (AnomalyModelsLoader); a detector's only inputs are its points in log order (no training, clock
 *   or randomness), so the replay rebuilds exactly what was lost.
 * - Anomaly rows are unique by log id and inserted ignoring conflicts; events, logs and the Prometheus
 *   counter follow only rows really inserted (AnomalyAnnouncer).
 *
 * The state this class keeps is two values, each with one meaning:
 * - `models`, the current generation (SeriesModels). When the thread may no longer hold exactly its
 *   detectors as of the store, the generation is retired (thread lost, a failed thread request or
 *   checkpoint, an abandoned batch) and the next apply() reloads a new one in the runner's transaction.
 * - `inFlight`, the batch whose points are in memory but not yet committed: a checkpoint waits for it,
 *   apply() writes it, afterCommit() publishes it, abandon() drops it with its generation.
 *
 * The cap (VIGIL_ANOMALY_MAX_SERIES): a point of a new series evicts the series touched least recently
 * (by log order) when that series' newest point is at least VIGIL_ANOMALY_SERIES_IDLE_SECONDS older than
 * the data time, the newest timestamp of every metric and request point applied so far (this one
 * included). Both come from the log alone, never the wall clock, so a reload, replaying the same entries,
 * takes the same decisions and gives the same verdicts. The evicted series' row is deleted in the batch
 * transaction (the points it judged earlier in the batch keep their anomalies); should the series come
 * back, it starts a new model. Otherwise the point is refused: counted (durably, in anomaly_state) and not
 * modelled. The data time, the eviction count and each series' last point are stored with the snapshots,
 * so a reload restores them exactly.
 */
@Injectable()
export class AnomalyDetectionConsumer implements DerivedStateConsumer {
  readonly name = ANOMALY_CONSUMER;
  readonly kinds = ANOMALY_KINDS;
  /**
   * A batch's cost on the event loop is mostly per round trip (its read, the thread's answer, its
   * transaction), not per point: at 5,000 the consumer applied about half of what 1000-point batch
   * ingest appended, fell out of the window of recent entries within a second and then read every
   * entry back from the store (parsing its JSON again). At 20,000 it keeps up (lag under 0.6 s).
   * Its transaction writes per series, not per point; the batch holds at most ~4 MiB of items.
   */
  readonly batchSize = 20_000;

  private readonly settings: DetectorSettings;
  private readonly policy: DetectionPolicy;
  /** Keys of series refused at the cap, seen by this process (the over-cap gauge). */
  private readonly refused = new Set<string>();
  private models = SeriesModels.unloaded();
  private inFlight: BatchInFlight | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly store: AnomalyStoreRepository,
    private readonly positions: ConsumerPositionsRepository,
    private readonly clock: Clock,
    private readonly thread: DetectionThread,
    private readonly loader: AnomalyModelsLoader,
    private readonly checkpointer: AnomalyModelsCheckpoint,
    private readonly announcer: AnomalyAnnouncer,
  ) {
    // A lost thread took the detectors with it: the next batch reloads them in its transaction,
    // instead of failing on a thread that refuses until reset.
    thread.onLost(() => this.models.retire());
    this.settings = { sensitivity: config.anomalies.sensitivity, method: config.anomalies.method };
    this.policy = {
      maxSeries: config.anomalies.maxSeries,
      idleMs: config.anomalies.seriesIdleSeconds * 1000,
      muted: new Set(config.anomalies.mutedMetrics),
    };
  }

  /**
   * Runs the batch through the detectors before its transaction opens (DerivedStateConsumer.prepare).
   * Skipped when the generation is retired: apply() then reloads and detects in its transaction.
   */
  async prepare(entries: LogEntry[]): Promise<void> {
    if (!this.models.retired) await this.detect(entries);
  }

  /** The prepared batch will not be committed, yet its points are in the detectors: reload before the next. */
  abandon(): void {
    this.inFlight = undefined;
    this.models.retire();
  }

  /** The runner found a position this process did not commit (start, another replica): load from the store. */
  async reload(trx: Tx): Promise<void> {
    this.models.retire();
    this.inFlight = undefined;
    this.models = await this.loader.load(trx, this.settings, this.policy.muted);
  }

  async apply(entries: LogEntry[], trx: Tx): Promise<void> {
    const prepared = this.inFlight;
    let batch = prepared?.entries === entries ? prepared.detected : undefined;
    // Written only as detected by a generation still in step with the store. Otherwise (not prepared,
    // prepared for other entries, or its generation retired since) the thread may hold points that will
    // never commit: reload first, then detect here.
    if (!batch || batch.models.retired) {
      if (prepared || this.models.retired) await this.reload(trx);
      batch = await this.detect(entries);
    }
    const { now, rows, anomalies, replayFrom, evictedIds } = batch;
    if (batch.seriesEvicted !== undefined) {
      await this.store.deleteSeries(trx, evictedIds);
      await this.store.setStateValue(trx, SERIES_EVICTED, batch.seriesEvicted);
    }
    await this.store.saveSeries(trx, rows, now);
    if (batch.pointsOverCap !== undefined) await this.store.setStateValue(trx, POINTS_OVER_CAP, batch.pointsOverCap);
    if (batch.dataTime !== undefined) await this.store.setStateValue(trx, DATA_TIME, batch.dataTime);
    await this.positions.set(trx, ANOMALY_REPLAY_POSITION, replayFrom, now);
    const inserted = anomalies.length > 0 ? await this.store.insertAnomalies(trx, anomalies, now) : new Set<number>();
    const announced = anomalies.filter((anomaly) => inserted.has(anomaly.logId));
    await this.announcer.appendEvents(trx, announced, now);
    if (this.inFlight) this.inFlight.inserted = announced;
  }

  /** After the batch committed: the generation reflects it durably; publish what it stored. */
  afterCommit(): void {
    const committed = this.inFlight;
    this.inFlight = undefined;
    const batch = committed?.detected;
    if (!batch) return;
    this.announcer.publish(committed.inserted, batch.evictedIds.length);
  }

  /** Snapshots series dirty for at least `minAgeMs` (0: all); see AnomalyModelsCheckpoint. */
  checkpoint(minAgeMs: number): Promise<number> {
    return this.checkpointer.write(this, () => this.models, minAgeMs);
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
      pointsOverCap: this.models.pointsOverCap,
      seriesOverCap: this.refused.size,
      seriesEvicted: this.models.seriesEvicted,
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
    return this.models.pointsOverCap;
  }

  /** Plans the batch, sends its points to the thread and reads the verdicts back; the batch is in flight from the start. */
  private async detect(entries: LogEntry[]): Promise<DetectedBatch> {
    const models = this.models;
    const inFlight: BatchInFlight = { entries, inserted: [] };
    this.inFlight = inFlight;
    const plan = planBatch(models, entries, this.clock.now(), this.policy, this.refused);
    const observing = this.thread.observe(plan.request);
    // Sent: the thread drops these detectors before it reads any later request, which may reuse the handles.
    models.releaseHandles(plan.drop);
    inFlight.detected = detectedBatch(models, plan, await observing);
    return inFlight.detected;
  }
}
