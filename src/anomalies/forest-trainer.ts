import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Piscina } from 'piscina';
import { FlatForest, type ForestParts } from './detection/forest.js';
import type { ForestModel } from './detection/index.js';

/**
 * Trainings queued for the worker at most; past it train() rejects at once (the
 * consumer hands over at most TRAININGS_PER_ROUND at a time, so this is a backstop).
 */
const MAX_QUEUED_TRAININGS = 256;
/** An idle worker thread exits after this long and is started again on the next training. */
const IDLE_WORKER_MS = 30_000;

/**
 * Fits isolation forests on a worker thread, off the event loop that serves ingest:
 * under a steady load of 1000-point batches retraining took 6-10 % of that loop.
 * piscina runs the pool: one thread (the detectors need ~1 training per 1000 points of
 * a series, a few ms each), replaced if it dies, with a bounded queue; a task of a
 * thread that died rejects, and the caller retries it later.
 */
@Injectable()
export class ForestTrainer implements OnApplicationShutdown {
  private readonly pool = new Piscina<Pick<ForestModel, 'sample' | 'seed'>, ForestParts>({
    filename: new URL('./detection/forest-training.worker.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: 1,
    idleTimeout: IDLE_WORKER_MS,
    maxQueue: MAX_QUEUED_TRAININGS,
  });

  async train(model: ForestModel): Promise<FlatForest> {
    return FlatForest.fromParts(await this.pool.run({ sample: model.sample, seed: model.seed }));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.destroy();
  }
}
