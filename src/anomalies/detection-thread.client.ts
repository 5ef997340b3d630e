import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Worker } from 'node:worker_threads';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { DEFAULT_MEMORY_BUDGET_MEBIBYTES, memoryBudgetOf } from '../config/memory-budget.js';
import type { DetectorSettings } from './detection/series-detector.js';
import type { ObserveRequest, ObserveResult } from './detection/series-detector-set.js';
import type { DetectionThreadMemory, DetectionThreadReply, DetectionThreadRequest } from './detection/series-detector-set.worker.js';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/**
 * The SeriesDetectorSet on a worker thread of its own, so that judging points, snapshotting
 * the models never runs on the event loop that serves ingest: under a steady
 * load of 1000-point batches, detection in place took about half of that loop (ingest ran at
 * 110-117k points/s with it, 232-246k without it).
 *
 * Requests are answered in the order sent. The thread starts on the first request. Should
 * it fail or exit, every pending request rejects and the next request starts a new, empty
 * thread, which refuses every request but reset() until reset: the caller then reloads its
 * detectors. The caller bounds what is pending (the anomaly consumer sends one batch and one
 * checkpoint at a time at most).
 *
 * Its heap is its own, outside the main thread's V8 limits: it is bounded by the memory budget's
 * share (resourceLimits; src/config/memory-budget.ts). A thread that outgrows it ends with
 * ERR_WORKER_OUT_OF_MEMORY and is lost as above.
 */
@Injectable()
export class DetectionThread {
  private readonly logger = new Logger('DetectionThread');
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private readonly lostListeners: Array<() => void> = [];
  private readonly resourceLimits: { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number };
  /** The running thread's memory as of its last reply (undefined before one, and once the thread is lost). */
  memory: DetectionThreadMemory | undefined;

  /** `config`: its memory budget bounds the thread's heap (without one, the default budget's share). */
  constructor(@Optional() @Inject(APP_CONFIG) config?: AppConfig) {
    this.resourceLimits = (config?.memory ?? memoryBudgetOf(DEFAULT_MEMORY_BUDGET_MEBIBYTES)).detectionWorker;
  }

  reset(settings: DetectorSettings): Promise<void> {
    return this.request('reset', settings) as Promise<void>;
  }

  observe(request: ObserveRequest): Promise<ObserveResult> {
    // Copied, not transferred: the caller reads the points again with the result. The thread
    // transfers its copies back with the reply, so they are freed here (series-detector-set.worker.ts).
    return this.request('observe', request) as Promise<ObserveResult>;
  }

  /**
   * Calls `listener` whenever a running thread is lost (it failed or exited, not closed), after
   * its pending requests were rejected: the detectors it held are gone, so whoever sent them
   * must reset the next thread and load them again before relying on it.
   */
  onLost(listener: () => void): void {
    this.lostListeners.push(listener);
  }

  /** Stops the thread; pending and later requests reject. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    this.memory = undefined;
    if (worker) await worker.terminate();
    this.failPending(new Error('the detection thread was closed'));
  }

  private request(operation: DetectionThreadRequest['operation'], argument: unknown, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the detection thread was closed'));
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // Referenced only while a request waits, so an idle thread never keeps the process alive.
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, operation, argument } satisfies DetectionThreadRequest, transfer);
    });
  }

  private start(): Worker {
    const worker = new Worker(new URL('./detection/series-detector-set.worker.js', import.meta.url), { resourceLimits: this.resourceLimits });
    worker.on('message', (reply: DetectionThreadReply) => {
      if (this.worker === worker) this.memory = reply.memory;
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) pending.reject(new Error(reply.error));
      else pending.resolve(reply.result);
    });
    const lost = (reason: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.memory = undefined;
      if (!this.closed) this.logger.error(`The detection thread stopped (${reason}); the anomaly models are reloaded from the store`);
      this.failPending(new Error(`the detection thread stopped (${reason})`));
      if (!this.closed) for (const listener of this.lostListeners) listener();
    };
    worker.on('error', (error) => lost(error.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    worker.unref();
    return worker;
  }

  private failPending(error: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const { reject } of pending) reject(error);
  }
}
