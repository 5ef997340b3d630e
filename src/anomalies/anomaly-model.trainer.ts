import { Injectable } from '@nestjs/common';
import type { TrainResult } from './detection/series-detector-set.js';
import { DetectionThread } from './detection-thread.client.js';
import { AnomaliesMetrics } from './anomalies.metrics.js';
import { detectorsToLoad, type ModelledSeries, type SeriesModels } from './series-models.js';

/** Series trained per request to the DetectionThread: bounds how long a batch waits behind a round. */
const TRAININGS_PER_ROUND = 32;

/**
 * Retrains the isolation forests that are due, on the DetectionThread, off the ingest path (the
 * scheduled AnomalyTrainingJob calls it through the consumer).
 *
 * Why this keeps exactly once: training is the only input to a detector that is not a log entry, so
 * a replay can reproduce a series only if no training falls between its stored snapshot and a
 * committed point of it. The thread handles requests one at a time in the order sent, so a round
 * falls between two batches' points, never between a batch's points and its snapshots (a batch plans
 * its snapshots and sends its points without awaiting: see planBatch); and the series of a round are
 * marked trainedSinceSnapshot when it is sent, so the next batch sent after it snapshots them, in that
 * batch's transaction. A retired generation is never trained (a reload is due, and resets the thread).
 */
@Injectable()
export class AnomalyModelTrainer {
  /** The rounds running, joined by a call made meanwhile. */
  private running: Promise<number> | undefined;

  constructor(
    private readonly thread: DetectionThread,
    private readonly metrics: AnomaliesMetrics,
  ) {}

  /**
   * Trains every due series of the current generation, in rounds of at most TRAININGS_PER_ROUND, until
   * none is due. Resolves with how many models were installed; rejects, after installing the rest of its
   * round, when a training failed (that series stays due). A call while a previous one runs joins it.
   */
  trainDue(current: () => SeriesModels): Promise<number> {
    this.running ??= this.trainRounds(current).finally(() => (this.running = undefined));
    return this.running;
  }

  private async trainRounds(current: () => SeriesModels): Promise<number> {
    let trained = 0;
    for (;;) {
      const models = current();
      if (models.retired) return trained;
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
        result = await this.thread.train({ load: detectorsToLoad(round), handles: round.map((series) => series.handle) });
      } catch (error) {
        // The thread may have lost its detectors: this generation is reloaded before the next batch.
        // Its series stay due meanwhile (the training backlog gauge reads them).
        if (models === current()) {
          models.retire();
          for (const series of round) models.trainingDue.add(series);
        }
        throw error;
      }
      // A reload since the request replaced these models: what it restored trains anew.
      if (models !== current()) return trained;
      // A series evicted while its round ran has no entry any more (its handle is reused only after the
      // request dropping it is answered, which the thread does after this round).
      for (const handle of result.trained) {
        const series = models.byHandle[handle];
        if (series) series.trained = true;
      }
      models.markDue(result.failed.map(({ handle }) => handle));
      if (result.trained.length > 0) this.metrics.trainings.inc(result.trained.length);
      trained += result.trained.length;
      if (result.failed.length > 0) throw new Error(`training failed for ${result.failed.length} series: ${result.failed[0]!.reason}`);
    }
  }
}
