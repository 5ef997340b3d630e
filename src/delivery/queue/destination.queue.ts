import { ConsumerRuntime } from '../../ingest-log/consumer-runtime.js';
import { DeliverMode, deliverRuntimeOptions, type DeliverConsumer } from '../../ingest-log/deliver.mode.js';
import type { BatchLimits, LogBatch } from '../../ingest-log/log-batch.read.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { Destination } from '../destination.js';
import { dueAt } from './batching.stage.js';
import { DeadLetterCommit } from './dead-letter.commit.js';
import { DropOldestStage } from './drop-oldest.stage.js';
import { ErasureFilter } from './erasure.filter.js';
import { withoutExpired } from './expiry.filter.js';
import { FailureStreakLog } from './failure-streak.log.js';
import { QueueDepth } from './queue-depth.gauges.js';
import { ReplayStage } from './replay.stage.js';
import { RetryStage } from './retry.stage.js';
import { SendStage } from './send.stage.js';
import { queueLease } from './queue.lease.js';
import {
  deliveryConsumerName,
  ownLogId,
  type Interruption,
  type LogIdOf,
  type QueueDependencies,
  type QueueSettings,
  type Resolutions,
} from './queue.types.js';

/**
 * The durable queue of one destination: the *deliver*-mode consumer of the ingest log's consumer
 * runtime (ingest-log/consumer-runtime.ts, deliver.mode.ts). The runtime owns the loop, its
 * wake-ups and polling, the lease, reading batches up to the high-water mark and the position;
 * this queue is what delivery adds, a chain of small stages in the spirit of the OpenTelemetry
 * Collector's exporterhelper:
 *
 *   queue (depth and gauges: queue-depth.gauges.ts; drop_oldest: drop-oldest.stage.ts;
 *   replays: replay.stage.ts)
 *   → batch (the runtime's read, due times: batching.stage.ts)
 *   → retry with Retry-After and backoff (retry.stage.ts), running before each
 *     attempt the erasure filter (erasure.filter.ts) and expiry (expiry.filter.ts)
 *   → timeout → send (send.stage.ts, the destination's encode / send / classify)
 *   → dead-letter commit (dead-letter.commit.ts)
 * with one throttled voice for all of them (failure-streak.log.ts, on the runtime's streak).
 * A dead or slow destination delays neither ingest nor any other destination.
 *
 * At least once: a batch is read, sent (no transaction is held across the
 * request), and only then, in one transaction, its dead letters are stored and
 * the position advanced past what was confirmed. A crash between the two sends
 * the batch again on restart. In-memory retry state (backoff, pauses) resets on
 * restart; the position and the dead letters do not.
 */
export class DestinationQueue implements DeliverConsumer {
  readonly consumer: string;
  readonly limits: BatchLimits;
  readonly pollMs: number;
  private readonly runtime: ConsumerRuntime;
  private readonly mode: DeliverMode;
  private readonly sendController = new AbortController();
  private readonly queueDepth: QueueDepth;
  private readonly erasures: ErasureFilter;
  private readonly failures: FailureStreakLog;
  private readonly retry: RetryStage;
  private readonly commits: DeadLetterCommit;
  private readonly replays: ReplayStage;
  private readonly dropping: DropOldestStage;

  constructor(
    readonly destination: Destination,
    private readonly settings: QueueSettings,
    private readonly deps: QueueDependencies,
  ) {
    const name = destination.name;
    this.consumer = deliveryConsumerName(name);
    this.limits = destination.limits;
    this.pollMs = settings.flushIntervalMs;
    this.runtime = new ConsumerRuntime(this.consumer, { ...deliverRuntimeOptions(destination.kinds), sleeper: deps.sleeper, signal: deps.signal });
    const lease = settings.leaseTtlMs === null ? null : queueLease(name, settings.leaseTtlMs, deps);
    this.mode = new DeliverMode(this.consumer, this, deps, lease);
    this.failures = new FailureStreakLog(name, deps, this.runtime.streak);
    this.queueDepth = new QueueDepth(name, destination.kinds, settings.maxBytes, deps, {
      isPaused: (now) => this.failures.isFailing || this.retry.pausedUntil > now,
      lagSeconds: (position, now) => this.mode.lagSeconds(position, now),
    });
    this.erasures = new ErasureFilter(deps.clock);
    const send = new SendStage(destination, settings.sendTimeoutMs, this.sendController.signal, deps);
    this.retry = new RetryStage(name, settings, deps, send, this.failures, {
      isStopped: () => this.runtime.stopped,
      isSendAborted: () => this.sendController.signal.aborted,
      filter: (entries, resolutions, logIdOf) => this.filter(entries, resolutions, logIdOf),
      wait: (milliseconds) => this.waitAndWatch(milliseconds),
    });
    this.commits = new DeadLetterCommit(name, this.consumer, deps, this.erasures, (trx) => this.mode.holdIn(trx));
    this.replays = new ReplayStage(destination, deps, this.erasures, (batch, logIdOf) => this.retry.run(batch, logIdOf));
    this.dropping = new DropOldestStage(name, destination.kinds, deps, this.queueDepth, this.commits);
  }

  get name(): string {
    return this.destination.name;
  }

  get kinds(): Destination['kinds'] {
    return this.destination.kinds;
  }

  /** The position the runtime's cursor holds: the last this process committed or read. */
  private get position(): number {
    return this.mode.cursor.position;
  }

  get isFull(): boolean {
    return this.queueDepth.isFull;
  }

  get depth(): { items: number; bytes: number; maxBytes: number } {
    return { items: this.queueDepth.items, bytes: this.queueDepth.bytes, maxBytes: this.settings.maxBytes };
  }

  /** Free queue bytes / recent ingest byte rate of this queue's kinds; +Inf when nothing arrives. */
  absorbableOutageSeconds(now = this.deps.clock.now()): number {
    return this.queueDepth.absorbableOutageSeconds(now);
  }

  /**
   * Privacy erasure of `userId`: called by DeliveryService inside the erasure
   * transaction, after every store deleted the user's rows and with this
   * queue's position row locked, before the commit. It only marks, in memory.
   *
   * Contract: from then on, no entry naming the user with a log id at or below
   * the mark is sent, dead-lettered or replayed; each such entry the queue
   * holds or reads passes as handled (position advanced, counted as dropped
   * with reason `erased`). The mark is the larger of `upTo`, the highest log id
   * committed when the user's rows were deleted, and the highest id this queue
   * has counted: every entry the erasure deleted is at or below it, and an
   * entry ingested after the erasure is above it and is delivered. Entries of
   * the user committed while the erasure runs may fall on either side. If the
   * transaction rolls back, marked entries are still dropped though the log
   * keeps them: the erasure was answered with an error, and its retry would
   * remove them anyway. A dead letter stored by a commit that held the lock
   * first is deleted by the erasure; a commit after it sees the mark.
   *
   * A mark is forgotten once the position has passed it and a settling time
   * has gone by (erasure.filter.ts): the log holds no deleted entry beyond the
   * position then.
   */
  forgetUser(userId: string, upTo: number): void {
    this.erasures.mark(userId, upTo, this.queueDepth.counted);
    // Recount the depth soon: entries erased before this queue read them leave it there.
    this.queueDepth.requestResync();
  }

  /** The position and depth come from the store before the loop starts, so admission checks work at once. */
  async start(): Promise<void> {
    // A destination enabled on an existing store forwards what arrives from now
    // on, not the whole retained history.
    await this.deps.positions.ensure(this.consumer, this.deps.clock.now(), await this.deps.log.highestId());
    await this.mode.reload();
    this.runtime.start(this.mode);
  }

  /** New entries were committed, or replays requested: end an idle wait. */
  wake(options: { replay?: boolean } = {}): void {
    if (options.replay) this.replays.requested();
    this.runtime.wake();
  }

  /**
   * Stops the loop: waits end at once; an in-flight request may finish within
   * `graceMs`, after which it is aborted. Only what was confirmed is committed.
   */
  async stop(graceMs: number): Promise<void> {
    const timer = setTimeout(() => this.sendController.abort(), graceMs);
    try {
      await this.runtime.stop();
    } finally {
      clearTimeout(timer);
    }
    await this.mode.release();
  }

  /** DeliverConsumer: the destination's own preparation, once before its first send. */
  async prepare(): Promise<void> {
    await this.destination.prepare?.(this.sendController.signal);
  }

  /** DeliverConsumer: a step failed; the failure-streak log says so, and the backoff says when to try again. */
  failed(reason: 'queue error' | 'prepare failed', error: unknown): number {
    this.failures.failed(reason, error);
    return this.retry.nextBackoff();
  }

  /** DeliverConsumer: milliseconds of the Retry-After pause left. */
  pausedFor(now: number): number {
    return Math.max(0, this.retry.pausedUntil - now);
  }

  /** DeliverConsumer: sits out a Retry-After pause, keeping the lease, the depth and the gauges current. */
  async sitOut(milliseconds: number): Promise<void> {
    await this.waitAndWatch(milliseconds);
  }

  /** DeliverConsumer: counts what arrived up to `highWater`, recounts, drops (drop_oldest) and replays. */
  async beforeRead(highWater: number): Promise<boolean> {
    await this.queueDepth.refreshAccepted(highWater);
    if (this.queueDepth.resyncDue) await this.queueDepth.resync(this.position);
    if (this.settings.policy === 'drop_oldest' && this.queueDepth.isOverBound) {
      await this.dropOldest();
      return true;
    }
    this.dropping.ended();
    const replayed = await this.replays.replayPending();
    if (replayed === 'lease_lost') this.mode.cursor.forget();
    return replayed !== 'none';
  }

  /** DeliverConsumer: sends the batch when it is full or due, then commits its outcome. */
  async deliver(batch: LogBatch): Promise<number> {
    await this.queueDepth.updateGauges(this.position);
    if (batch.entries.length === 0) {
      // Only entries of other kinds: pass them so retention may trim them.
      if (batch.next > this.position) await this.commit(batch.next, [], new Map(), false);
      return this.settings.flushIntervalMs;
    }
    const due = dueAt(batch, this.settings.flushIntervalMs);
    if (!batch.full && due > this.deps.clock.now()) return due - this.deps.clock.now();

    const run = await this.retry.run(batch.entries, ownLogId);
    if (run.interrupted === 'lease_lost') {
      this.mode.cursor.forget();
      return 0;
    }
    if (run.interrupted === 'stopped') {
      // Commit the confirmed prefix only; the rest is sent again after restart.
      const firstOpen = batch.entries.findIndex((entry) => !run.resolutions.has(entry.id));
      const prefixTarget = firstOpen === -1 ? batch.next : batch.entries[firstOpen]!.id - 1;
      if (prefixTarget > this.position) await this.commit(prefixTarget, batch.entries, run.resolutions, false);
      return 0;
    }
    // 'drop': the batch's unresolved entries are the oldest of the queue; they go first.
    await this.commit(batch.next, batch.entries, run.resolutions, run.interrupted === 'drop');
    return 0;
  }

  /** The entry filters, run before every send attempt: erasure first, then expiry. */
  private filter(entries: LogEntry[], resolutions: Resolutions, logIdOf: LogIdOf): LogEntry[] {
    const kept = this.erasures.without(entries, resolutions, logIdOf);
    return withoutExpired(kept, resolutions, this.name, this.destination.limits, this.deps.clock.now());
  }

  /** Commits a batch's outcome (dead-letter commit), then counts and prunes. */
  private async commit(target: number, batch: readonly LogEntry[], resolutions: Resolutions, dropOpen: boolean): Promise<void> {
    const tally = await this.commits.commit(target, batch, resolutions, dropOpen);
    this.mode.cursor.moved(target);
    this.queueDepth.passed(tally.items, tally.bytes);
    if (tally.dropped > 0) this.queueDepth.countDropped(tally.dropped, 'queue_full');
    if (tally.erased > 0) this.queueDepth.countDropped(tally.erased, 'erased');
    this.erasures.prune(this.position);
    await this.queueDepth.updateGauges(this.position);
  }

  private async dropOldest(): Promise<void> {
    const target = await this.dropping.drop(this.position);
    if (target <= this.position) return;
    this.mode.cursor.moved(target);
    await this.queueDepth.updateGauges(this.position);
  }

  /** DeliverConsumer: depth from the store at `position` (start, and after another replica held the queue). */
  async reload(position: number): Promise<void> {
    await this.queueDepth.reload(position);
    await this.queueDepth.updateGauges(position);
  }

  /**
   * Waits `milliseconds` of clock time in flush-interval steps, keeping the
   * lease, the depth and the gauges current meanwhile (ingest's admission check
   * reads the depth while the destination is down).
   */
  private async waitAndWatch(milliseconds: number): Promise<Interruption | null> {
    const deadline = this.deps.clock.now() + milliseconds;
    this.deps.metrics.paused.set({ destination: this.name }, 1);
    for (;;) {
      const remaining = deadline - this.deps.clock.now();
      if (this.runtime.stopped) return 'stopped';
      if (remaining <= 0) return null;
      await this.deps.sleeper.sleep(Math.min(remaining, this.settings.flushIntervalMs), this.runtime.stopSignal);
      if (this.runtime.stopped) return 'stopped';
      if (!(await this.mode.holds())) return 'lease_lost';
      await this.queueDepth.refreshAccepted(await this.deps.log.highestId(this.deps.db));
      await this.queueDepth.updateGauges(this.position);
      if (this.settings.policy === 'drop_oldest' && this.queueDepth.isOverBound) return 'drop';
    }
  }
}
