import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { Db, Executor, Tx } from '../storage/database.js';
import { DATABASE } from '../storage/database.provider.js';
import { ConsumerPositionsRepository } from './consumer-positions.repository.js';
import type { IngestKind } from './ingest-log.items.js';
import { IngestLogRepository } from './ingest-log.repository.js';
import type { LogEntry } from './log-entry.js';

/**
 * A consumer whose derived state lives in the database. Each batch of log entries
 * is applied inside the transaction that also advances the consumer's position,
 * so after any crash the derived state reflects every entry exactly once.
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

/** Positions that retention must not pass; delivery consumers register here too. */
@Injectable()
export class ConsumerRegistry {
  private readonly names = new Set<string>();
  register(name: string): void {
    this.names.add(name);
  }
  get consumerNames(): string[] {
    return [...this.names];
  }
}

/**
 * Wakes consumers when entries are committed instead of making them poll quickly.
 * `kinds` says which kinds the commit held (undefined: any), so a consumer is not
 * woken by commits it has nothing to read in.
 */
@Injectable()
export class IngestLogSignal {
  private readonly listeners = new Set<(kinds?: ReadonlySet<IngestKind>) => void>();
  subscribe(listener: (kinds?: ReadonlySet<IngestKind>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  notify(kinds?: ReadonlySet<IngestKind>): void {
    for (const listener of this.listeners) listener(kinds);
  }
}

interface ReadBatch {
  entries: LogEntry[];
  exhausted: boolean;
  next: number;
}

// Entries committed by another replica are noticed within this long.
const POLL_INTERVAL_MS = 1000;
// A woken consumer waits this long before draining, so that a stream of small
// commits (one per single-item request) becomes one consumer transaction rather
// than one per commit competing with ingest for the store.
const LINGER_MS = 50;

/**
 * Runs every registered DerivedStateConsumer: on each commit signal (and every
 * second, for other replicas' commits) it drains the consumer in batches. One
 * drain per consumer at a time; a failing batch is rolled back, logged once per
 * failure streak, and retried on the next wake-up.
 */
@Injectable()
export class DerivedStateRunner implements BeforeApplicationShutdown {
  private readonly logger = new Logger('DerivedStateRunner');
  private readonly consumers: DerivedStateConsumer[] = [];
  private readonly lastCommitted = new Map<string, number>();
  private readonly draining = new Map<string, Promise<void>>();
  private readonly rerun = new Set<string>();
  private readonly failing = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly lingering = new Map<string, NodeJS.Timeout>();
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  constructor(
    @Inject(DATABASE) private readonly db: Db,
    private readonly positions: ConsumerPositionsRepository,
    private readonly log: IngestLogRepository,
    private readonly registry: ConsumerRegistry,
    private readonly signal: IngestLogSignal,
    private readonly clock: Clock,
  ) {}

  async register(consumer: DerivedStateConsumer): Promise<void> {
    await this.positions.ensure(consumer.name, this.clock.now());
    this.registry.register(consumer.name);
    this.consumers.push(consumer);
  }

  /** Starts draining; called once every module has registered its consumers. */
  start(): void {
    if (this.timer || this.stopped) return;
    this.unsubscribe = this.signal.subscribe((kinds) => {
      for (const consumer of this.consumers) {
        if (kinds === undefined || consumer.kinds.some((kind) => kinds.has(kind))) this.wakeSoon(consumer);
      }
    });
    this.timer = setInterval(() => this.wakeAll(), POLL_INTERVAL_MS);
    this.timer.unref();
    this.wakeAll();
  }

  /** Resolves when every consumer has applied everything committed so far (tests). */
  async drainAll(): Promise<void> {
    for (const consumer of this.consumers) {
      await this.exclusively(consumer, () => this.drain(consumer));
    }
  }

  /**
   * Runs `work` as the consumer's only drain or step: after the one in progress, and registered
   * as its drain, so that a wake-up meanwhile does not start a second one (two drains of one
   * consumer would prepare the same batch twice).
   */
  private async exclusively<Result>(consumer: DerivedStateConsumer, work: () => Promise<Result>): Promise<Result> {
    for (let running = this.draining.get(consumer.name); running; running = this.draining.get(consumer.name)) await running;
    const run = work();
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.draining.set(consumer.name, settled);
    try {
      return await run;
    } finally {
      if (this.draining.get(consumer.name) === settled) this.draining.delete(consumer.name);
    }
  }

  /**
   * Per registered consumer, the seconds since receipt of the oldest entry of its
   * kinds that it has not applied yet (0 when caught up): how far its derived
   * state trails ingest. Positions are read from the store, so on Postgres this
   * also covers consumers another replica advances.
   */
  async lagSeconds(now: number): Promise<Map<string, number>> {
    const positions = new Map((await this.positions.all()).map((row) => [row.consumer, row.position]));
    const lag = new Map<string, number>();
    for (const consumer of this.consumers) {
      const oldest = await this.log.oldestReceivedAfter(positions.get(consumer.name) ?? 0, consumer.kinds);
      lag.set(consumer.name, oldest === null ? 0 : Math.max(0, now - oldest) / 1000);
    }
    return lag;
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
   * failure-streak log; it resolves false.
   */
  async runAtPosition(consumer: DerivedStateConsumer, step: (trx: Tx, position: number) => Promise<void>): Promise<boolean> {
    try {
      return await this.exclusively(consumer, () => this.stepAtPosition(consumer, step));
    } finally {
      // A commit signalled meanwhile found the consumer busy: drain it now, not at the next poll.
      if (this.rerun.delete(consumer.name)) this.wake(consumer);
    }
  }

  private async stepAtPosition(consumer: DerivedStateConsumer, step: (trx: Tx, position: number) => Promise<void>): Promise<boolean> {
    const expected = this.lastCommitted.get(consumer.name);
    if (expected === undefined) return false;
    try {
      return await this.db.transaction().execute(async (trx) => {
        const position = await this.positions.lock(trx, consumer.name);
        if (position !== expected) return false;
        await step(trx, position);
        return true;
      });
    } catch (error) {
      this.failedBatch(consumer, error);
      return false;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    for (const pending of this.lingering.values()) clearTimeout(pending);
    this.unsubscribe?.();
    await Promise.all([...this.draining.values()]);
  }

  private wakeAll(): void {
    for (const consumer of this.consumers) this.wake(consumer);
  }

  private wakeSoon(consumer: DerivedStateConsumer): void {
    if (this.lingering.has(consumer.name) || this.stopped) return;
    const pending = setTimeout(() => {
      this.lingering.delete(consumer.name);
      this.wake(consumer);
    }, LINGER_MS);
    pending.unref();
    this.lingering.set(consumer.name, pending);
  }

  private wake(consumer: DerivedStateConsumer): void {
    if (this.stopped) return;
    if (this.draining.has(consumer.name)) {
      this.rerun.add(consumer.name);
      return;
    }
    const run = this.drainRepeatedly(consumer).finally(() => this.draining.delete(consumer.name));
    this.draining.set(consumer.name, run);
  }

  private async drainRepeatedly(consumer: DerivedStateConsumer): Promise<void> {
    do {
      this.rerun.delete(consumer.name);
      await this.drain(consumer);
    } while (this.rerun.has(consumer.name) && !this.stopped);
  }

  private async drain(consumer: DerivedStateConsumer): Promise<void> {
    try {
      for (;;) {
        const applied = await this.applyOneBatch(consumer);
        if (applied === null || applied.entries.length === 0 && applied.exhausted) break;
        if (applied.entries.length > 0) consumer.afterCommit?.(applied.entries);
        // Shutting down: stop after the batch in flight, the rest waits for the next start
        // (a backlog of a million entries would outlast the shutdown timeout).
        if (applied.exhausted || this.stopped) break;
        // better-sqlite3 answers synchronously, so awaiting a batch never reaches the
        // event loop: without this, draining a backlog held up every request (and
        // health check) until the last batch, measured at 0.4-0.5 s under load.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (this.failing.delete(consumer.name)) this.logger.log(`Consumer ${consumer.name} recovered`);
    } catch (error) {
      this.failedBatch(consumer, error);
    }
  }

  /** A rolled-back batch or step may have touched in-memory state: force a reload; log once per failure streak. */
  private failedBatch(consumer: DerivedStateConsumer, error: unknown): void {
    this.lastCommitted.delete(consumer.name);
    consumer.abandon?.();
    if (!this.failing.has(consumer.name)) {
      this.failing.add(consumer.name);
      this.logger.error({ err: error, consumer: consumer.name }, `Consumer ${consumer.name} failed; it retries from its last committed position`);
    }
  }

  /** One transaction: lock position, read, apply, advance. Null when another replica holds the consumer. */
  private async applyOneBatch(consumer: DerivedStateConsumer): Promise<{ entries: LogEntry[]; exhausted: boolean } | null> {
    const expected = this.lastCommitted.get(consumer.name);
    if (consumer.prepare && expected !== undefined) return this.prepareAndApply(consumer, expected);
    return this.db.transaction().execute(async (trx) => {
      const position = await this.positions.lock(trx, consumer.name);
      if (position === null) return null;
      if (this.lastCommitted.get(consumer.name) !== position) await consumer.reload?.(trx);
      const batch = await this.readBatch(trx, consumer, position);
      if (batch.next === position) {
        this.lastCommitted.set(consumer.name, position);
        return batch;
      }
      return this.commitBatch(trx, consumer, batch);
    });
  }

  /**
   * applyOneBatch() for a consumer with prepare(): read and prepare outside a transaction,
   * from the position this process last committed, then apply in one that finds the position
   * unchanged. Reading outside the transaction is safe because the entries up to a committed
   * high-water mark never change (appends only, ids visible in order).
   */
  private async prepareAndApply(consumer: DerivedStateConsumer, position: number): Promise<{ entries: LogEntry[]; exhausted: boolean } | null> {
    const batch = await this.readBatch(this.db, consumer, position);
    if (batch.next === position) return batch;
    if (batch.entries.length > 0) await consumer.prepare!(batch.entries);
    return this.db.transaction().execute(async (trx) => {
      const locked = await this.positions.lock(trx, consumer.name);
      if (locked !== position) {
        // Another replica holds or moved the consumer: what was prepared is not ours to apply.
        this.lastCommitted.delete(consumer.name);
        if (batch.entries.length > 0) consumer.abandon?.();
        return null;
      }
      return this.commitBatch(trx, consumer, batch);
    });
  }

  /**
   * The consumer's next batch after `position`, read up to the current high-water mark, and the
   * position it moves to: past the high-water mark when the batch is its last (the consumer scanned
   * and skipped the rest, of other kinds). `next` is `position` when nothing was committed after it.
   */
  private async readBatch(executor: Executor, consumer: DerivedStateConsumer, position: number): Promise<ReadBatch> {
    const highWater = await this.log.highestId(executor);
    if (highWater <= position) return { entries: [], exhausted: true, next: position };
    const entries = await this.log.readAfter(executor, position, highWater, consumer.kinds, consumer.batchSize);
    const exhausted = entries.length < consumer.batchSize;
    return { entries, exhausted, next: exhausted ? highWater : entries[entries.length - 1]!.id };
  }

  /** Applies the batch and advances the consumer's position, in the caller's transaction. */
  private async commitBatch(trx: Tx, consumer: DerivedStateConsumer, batch: ReadBatch): Promise<ReadBatch> {
    if (batch.entries.length > 0) await consumer.apply(batch.entries, trx);
    await this.positions.set(trx, consumer.name, batch.next, this.clock.now());
    this.lastCommitted.set(consumer.name, batch.next);
    return batch;
  }
}
