import type { Clock } from '../common/clock.js';
import type { Db, Executor, Tx } from '../storage/database.js';
import type { ApplyLease } from './apply.lease.js';
import type { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import { ConsumerCursor, type ConsumerMode, type ConsumerRuntime, type FailedStep } from './consumer-runtime.js';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogRepository } from './ingest-log.repository.js';
import { lagSeconds, readBatch, type LogBatch } from './log-batch.read.js';
import type { LogEntry } from './log-entry.js';

/**
 * A consumer whose derived state lives in the database: the *apply* mode's consumer. Each batch of
 * log entries is applied inside the transaction that also advances the consumer's position, so
 * after any crash the derived state reflects every entry exactly once.
 *
 * It reads entries of `Kind` only (`LogEntry<'request'>` holds a RequestItem). The batch
 * transaction is a `Tx` with no tables: the consumer hands it to its own repositories,
 * which see it through their tables (see Db in storage/database.ts).
 */
export interface DerivedStateConsumer<Kind extends IngestKind = IngestKind> {
  /** Stable name: the key of its position. */
  readonly name: string;
  readonly kinds: readonly Kind[];
  /** Entries per transaction; bounds memory and how long one transaction holds the store. */
  readonly batchSize: number;
  apply(entries: Array<LogEntry<Kind>>, trx: Tx): Promise<void>;
  /**
   * Optional: work on a batch that needs no transaction (computation on another thread),
   * done before the batch's transaction opens so that waiting for it does not hold the store
   * (on SQLite, every ingest commit would wait behind it). Called only when the runner knows
   * the position this process last committed; apply() follows with the same entries, or
   * abandon() does when the batch will not be applied (the position moved, or its transaction
   * failed). apply() must also work on entries it was not prepared for.
   */
  prepare?(entries: Array<LogEntry<Kind>>): Promise<void>;
  /** A prepared batch will not be applied: in-memory state must be reloaded before the next. */
  abandon?(): void;
  /**
   * The stored position is not the one this process last committed (another
   * replica advanced it, or this is the first batch since start): reload any
   * in-memory state from the store inside this transaction.
   */
  reload?(trx: Tx): Promise<void>;
  /** After the batch committed: publish counters, events, logs. Must not throw. */
  afterCommit?(entries: Array<LogEntry<Kind>>): void;
}

export interface ApplyDependencies {
  db: Db;
  positions: ConsumerPositionsRepository;
  log: IngestLogRepository;
  clock: Clock;
  logger: { log(message: string): void; error(message: unknown, text: string): void };
  /** On a store several replicas share (Postgres): the lease that says which of them runs the consumer; null: this process alone. */
  lease: ApplyLease | null;
}

// Entries committed by another replica are noticed within this long.
export const APPLY_POLL_INTERVAL_MS = 1000;
// A woken consumer waits this long before draining, so that a stream of small
// commits (one per single-item request) becomes one consumer transaction rather
// than one per commit competing with ingest for the store.
export const APPLY_LINGER_MS = 50;

/**
 * The *apply* mode of the consumer runtime, for one DerivedStateConsumer. A step drains the
 * consumer in batches, each one transaction: lock the position (on Postgres the row lock, SKIP
 * LOCKED: another replica holding the consumer makes the step end at once), read up to the
 * high-water mark, apply, advance. A failing batch is rolled back, logged once per failure streak,
 * and retried on the next wake-up (or poll, every second).
 */
export class ApplyMode implements ConsumerMode {
  private readonly cursor = new ConsumerCursor();

  constructor(
    readonly consumer: DerivedStateConsumer,
    private readonly runtime: ConsumerRuntime,
    private readonly deps: ApplyDependencies,
  ) {}

  async step(): Promise<number | FailedStep> {
    if (this.deps.lease !== null && !(await this.deps.lease.holds())) {
      // Another replica runs the consumer: try again on the poll, not on this process's commits;
      // should the lease come back, the position may have moved meanwhile.
      this.cursor.forget();
      return { waitMs: APPLY_POLL_INTERVAL_MS, wakeable: false };
    }
    await this.drain(true);
    return APPLY_POLL_INTERVAL_MS;
  }

  /** Lets the consumer's lease go, if any (at shutdown, after the last step). */
  async release(): Promise<void> {
    await this.deps.lease?.release().catch(() => undefined);
  }

  failed(error: unknown): FailedStep {
    this.failedBatch(error);
    return { waitMs: APPLY_POLL_INTERVAL_MS, wakeable: true };
  }

  /** Drains the consumer as its only step (after the one in progress); resolves when done. */
  drainExclusively(): Promise<void> {
    return this.runtime.exclusively(() => this.drain());
  }

  /** How far the consumer at the stored `position` trails ingest, in seconds. */
  lagSeconds(position: number, now: number): Promise<number> {
    return lagSeconds(this.deps.log, position, this.consumer.kinds, now);
  }

  /**
   * Runs `step` in one transaction that holds the consumer's position, for derived state written
   * without moving it (the anomaly models' checkpoint). Serialised with the consumer's drains (it
   * waits for one in progress, so it never runs between a batch's prepare and its commit) and
   * allowed after stop (the shutdown checkpoint runs once the drains ended). The step runs only
   * when the stored position is the one this process last committed, so the consumer's memory
   * reflects exactly that position; resolves false otherwise (another replica holds the consumer,
   * or nothing was committed by this process yet). The position is left as it is. A throw rolls
   * back and is handled as a failed batch: abandon(), a reload before the next batch, the
   * failure-streak log; it resolves false. A commit signalled meanwhile is drained right after.
   */
  runAtPosition(step: (trx: Tx, position: number) => Promise<void>): Promise<boolean> {
    return this.runtime.exclusively(() => this.stepAtPosition(step));
  }

  private async stepAtPosition(step: (trx: Tx, position: number) => Promise<void>): Promise<boolean> {
    if (!this.cursor.known) return false;
    const expected = this.cursor.position;
    try {
      return await this.deps.db.transaction().execute(async (trx) => {
        const position = await this.deps.positions.lock(trx, this.consumer.name);
        if (position !== expected) return false;
        await step(trx, position);
        return true;
      });
    } catch (error) {
      this.failedBatch(error);
      return false;
    }
  }

  /** Applies batches until none is left. `underLease`: a step of the loop, which goes on only while this process holds the lease. */
  private async drain(underLease = false): Promise<void> {
    const consumer = this.consumer;
    try {
      for (;;) {
        const applied = await this.applyOneBatch();
        if (applied === null || (applied.entries.length === 0 && applied.exhausted)) break;
        if (applied.entries.length > 0) consumer.afterCommit?.(applied.entries);
        // Shutting down: stop after the batch in flight, the rest waits for the next start
        // (a backlog of a million entries would outlast the shutdown timeout).
        if (applied.exhausted || this.runtime.stopped) break;
        // A backlog may take longer to drain than the lease lasts: renew it between batches (a
        // query only when a third of it has passed), and stop should another replica have it.
        if (underLease && this.deps.lease !== null && !(await this.deps.lease.holds())) break;
        // better-sqlite3 answers synchronously, so awaiting a batch never reaches the
        // event loop: without this, draining a backlog held up every request (and
        // health check) until the last batch, measured at 0.4-0.5 s under load.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.runtime.streak.succeeded(this.deps.clock.now()) !== null) this.deps.logger.log(`Consumer ${consumer.name} recovered`);
    } catch (error) {
      this.failedBatch(error);
    }
  }

  /** A rolled-back batch or step may have touched in-memory state: force a reload; log once per failure streak. */
  private failedBatch(error: unknown): void {
    const name = this.consumer.name;
    this.cursor.forget();
    this.consumer.abandon?.();
    if (this.runtime.streak.failed(this.deps.clock.now())) {
      this.deps.logger.error({ err: error, consumer: name }, `Consumer ${name} failed; it retries from its last committed position`);
    }
  }

  /** One transaction: lock position, read, apply, advance. Null when another replica holds the consumer. */
  private async applyOneBatch(): Promise<LogBatch | null> {
    const consumer = this.consumer;
    if (consumer.prepare && this.cursor.known) return this.prepareAndApply(this.cursor.position);
    return this.deps.db.transaction().execute(async (trx) => {
      const position = await this.deps.positions.lock(trx, consumer.name);
      if (position === null) return null;
      if (!this.cursor.known || this.cursor.position !== position) await consumer.reload?.(trx);
      const batch = await this.read(trx, position);
      if (batch.next === position) {
        this.cursor.moved(position);
        return batch;
      }
      return this.commitBatch(trx, batch);
    });
  }

  /**
   * applyOneBatch() for a consumer with prepare(): read and prepare outside a transaction,
   * from the position this process last committed, then apply in one that finds the position
   * unchanged. Reading outside the transaction is safe because the entries up to a committed
   * high-water mark never change (appends only, ids visible in order).
   */
  private async prepareAndApply(position: number): Promise<LogBatch | null> {
    const consumer = this.consumer;
    const batch = await this.read(this.deps.db, position);
    if (batch.next === position) return batch;
    if (batch.entries.length > 0) await consumer.prepare!(batch.entries);
    return this.deps.db.transaction().execute(async (trx) => {
      const locked = await this.deps.positions.lock(trx, consumer.name);
      if (locked !== position) {
        // Another replica holds or moved the consumer: what was prepared is not ours to apply.
        this.cursor.forget();
        if (batch.entries.length > 0) consumer.abandon?.();
        return null;
      }
      return this.commitBatch(trx, batch);
    });
  }

  /** The next batch after `position`, up to the current high-water mark, at most batchSize entries. */
  private async read(executor: Executor, position: number): Promise<LogBatch> {
    const highWater = await this.deps.log.highestId(executor);
    return readBatch(this.deps.log, executor, position, highWater, this.consumer.kinds, { maxItems: this.consumer.batchSize, maxBytes: Number.POSITIVE_INFINITY });
  }

  /** Applies the batch and advances the consumer's position, in the caller's transaction. */
  private async commitBatch(trx: Tx, batch: LogBatch): Promise<LogBatch> {
    if (batch.entries.length > 0) await this.consumer.apply(batch.entries, trx);
    await this.deps.positions.set(trx, this.consumer.name, batch.next, this.deps.clock.now());
    this.cursor.moved(batch.next);
    return batch;
  }
}
