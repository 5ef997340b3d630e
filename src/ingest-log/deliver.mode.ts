import type { Clock } from '../common/clock.js';
import type { Db, Executor } from '../storage/database.js';
import type { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { ConsumerCursor, type ConsumerMode, type FailedStep, type RuntimeOptions } from './consumer-runtime.js';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogRepository } from './ingest-log.repository.js';
import { lagSeconds, readBatch, type BatchLimits, type LogBatch } from './log-batch.read.js';

/**
 * A lease on a consumer that several replicas share (Postgres): one process holds it at a time,
 * renewing it on every step, wait and commit; an expired lease may be taken by another.
 */
export interface ConsumerLease {
  /** Takes or renews the lease; true when this process holds it. `executor`: inside a transaction. */
  acquire(executor?: Executor): Promise<boolean>;
  release(): Promise<void>;
}

/** Another replica took the consumer's lease: the step ends, and the runtime waits its turn. */
export class LeaseLostError extends Error {}

/**
 * The *deliver* mode's consumer (a destination's queue, delivery/queue/destination.queue.ts): what
 * it brings to the runtime. It sends, then commits: the position moves past what was confirmed
 * only after the send, so a crash between the two sends again (at least once). Whenever it moves
 * the position it tells the cursor (`DeliverMode.cursor.moved`).
 */
export interface DeliverConsumer {
  readonly kinds: readonly IngestKind[];
  readonly limits: BatchLimits;
  /** The wait between steps while another replica holds the lease, and the longest idle wait. */
  readonly pollMs: number;
  /** Reads its state (depth) from the store at `position`: at start, and after another replica held it. */
  reload(position: number): Promise<void>;
  /** Once, before its first send (a destination's own preparation); a throw is retried with backoff. */
  prepare(): Promise<void>;
  /** Milliseconds until it may send again (a Retry-After pause); 0 when it may now. */
  pausedFor(now: number): number;
  /** Sits out a pause, keeping what it shows current. */
  sitOut(milliseconds: number): Promise<void>;
  /**
   * Its bookkeeping before a read, up to `highWater` (depth, drop_oldest, replays); true when that
   * was the step (the next starts at once).
   */
  beforeRead(highWater: number): Promise<boolean>;
  /** Sends the batch read (its due time permitting), then commits; resolves the wait before the next step. */
  deliver(batch: LogBatch): Promise<number>;
  /** A step failed (not a lost lease): says so once per streak; resolves the wait (backoff) before the next. */
  failed(reason: 'queue error' | 'prepare failed', error: unknown): number;
}

export interface DeliverDependencies {
  db: Db;
  log: IngestLogRepository;
  positions: ConsumerPositionsRepository;
  clock: Clock;
}

/**
 * The *deliver* mode of the consumer runtime. A step: hold the lease (null: one process, SQLite),
 * read the position again if another replica may have moved it, prepare once, sit out a
 * Retry-After pause, then read the next batch up to the high-water mark and hand it to the
 * consumer to send and commit. A failed step waits the consumer's backoff, which a wake-up does not
 * cut short; a lost lease lets the consumer go at once.
 */
export class DeliverMode implements ConsumerMode {
  readonly cursor = new ConsumerCursor();
  private prepared = false;

  constructor(
    /** The consumer's key in `consumer_positions`. */
    readonly name: string,
    private readonly consumer: DeliverConsumer,
    private readonly deps: DeliverDependencies,
    private readonly lease: ConsumerLease | null,
  ) {}

  /** Its position from the store (start, and after another replica held the consumer). */
  async reload(): Promise<void> {
    const position = await this.deps.positions.get(this.name);
    await this.consumer.reload(position);
    this.cursor.moved(position);
  }

  async step(): Promise<number> {
    if (!(await this.holds())) {
      this.cursor.forget();
      return this.consumer.pollMs;
    }
    if (!this.cursor.known) await this.reload();
    if (!this.prepared) {
      await this.consumer.prepare();
      this.prepared = true;
    }
    const paused = this.consumer.pausedFor(this.deps.clock.now());
    if (paused > 0) {
      await this.consumer.sitOut(paused);
      return 0;
    }
    const highWater = await this.deps.log.highestId(this.deps.db);
    if (await this.consumer.beforeRead(highWater)) return 0;
    const batch = await readBatch(this.deps.log, this.deps.db, this.cursor.position, highWater, this.consumer.kinds, this.consumer.limits);
    return this.consumer.deliver(batch);
  }

  failed(error: unknown): FailedStep {
    this.cursor.forget();
    if (error instanceof LeaseLostError) return { waitMs: 0, wakeable: false };
    return { waitMs: this.consumer.failed(this.prepared ? 'queue error' : 'prepare failed', error), wakeable: false };
  }

  /** Takes or renews the lease; true when this process holds the consumer. */
  holds(): Promise<boolean> {
    return this.lease === null ? Promise.resolve(true) : this.lease.acquire();
  }

  /** Renews the lease inside a commit's transaction; throws LeaseLostError when another replica took it. */
  async holdIn(trx: Executor): Promise<void> {
    if (this.lease !== null && !(await this.lease.acquire(trx))) throw new LeaseLostError();
  }

  /** Lets the lease go (at stop), so that another replica need not wait for it to expire. */
  async release(): Promise<void> {
    await this.lease?.release().catch(() => undefined);
  }

  /** How far the consumer at `position` trails ingest, in seconds. */
  lagSeconds(position: number, now: number): Promise<number> {
    return lagSeconds(this.deps.log, position, this.consumer.kinds, now);
  }
}

/** The runtime of a deliver consumer: woken by every commit, at once (its batching decides when to send). */
export function deliverRuntimeOptions(kinds: readonly IngestKind[]): Pick<RuntimeOptions, 'kinds' | 'wakeOn' | 'lingerMs'> {
  return { kinds, wakeOn: 'any commit', lingerMs: 0 };
}
