import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { Destination } from '../destination.js';
import { dueAt, nextBatch } from './batching.stage.js';
import { DeadLetterCommit } from './dead-letter.commit.js';
import { DropOldestStage } from './drop-oldest.stage.js';
import { ErasureFilter } from './erasure.filter.js';
import { withoutExpired } from './expiry.filter.js';
import { FailureStreakLog } from './failure-streak.log.js';
import { QueueDepth } from './queue-depth.gauges.js';
import { ReplayStage } from './replay.stage.js';
import { RetryStage } from './retry.stage.js';
import { SendStage } from './send.stage.js';
import {
  LeaseLostError,
  deliveryConsumerName,
  ownLogId,
  type Interruption,
  type LogIdOf,
  type QueueDependencies,
  type QueueSettings,
  type Resolutions,
} from './queue.types.js';

/**
 * The durable queue of one destination: a consumer of the ingest log with its
 * own position, and its own loop, so a dead or slow destination delays neither
 * ingest nor any other destination. It runs a chain of small stages, in the
 * spirit of the OpenTelemetry Collector's exporterhelper:
 *
 *   queue (this loop, depth and gauges: queue-depth.gauges.ts; drop_oldest:
 *   drop-oldest.stage.ts; replays: replay.stage.ts)
 *   → batch (batching.stage.ts)
 *   → retry with Retry-After and backoff (retry.stage.ts), running before each
 *     attempt the erasure filter (erasure.filter.ts) and expiry (expiry.filter.ts)
 *   → timeout → send (send.stage.ts, the destination's encode / send / classify)
 *   → dead-letter commit (dead-letter.commit.ts)
 * with one throttled voice for all of them (failure-streak.log.ts).
 *
 * At least once: a batch is read, sent (no transaction is held across the
 * request), and only then, in one transaction, its dead letters are stored and
 * the position advanced past what was confirmed. A crash between the two sends
 * the batch again on restart. In-memory retry state (backoff, pauses) resets on
 * restart; the position and the dead letters do not.
 */
export class DestinationQueue {
  readonly consumer: string;
  private position = 0;
  private leader = false;
  private prepared = false;
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly stopController = new AbortController();
  private readonly sendController = new AbortController();
  private wakeController: AbortController | null = null;
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
    this.failures = new FailureStreakLog(name, deps);
    this.queueDepth = new QueueDepth(name, destination.kinds, settings.maxBytes, deps, (now) => this.failures.isFailing || this.retry.pausedUntil > now);
    this.erasures = new ErasureFilter(deps.clock);
    const send = new SendStage(destination, settings.sendTimeoutMs, this.sendController.signal, deps);
    this.retry = new RetryStage(name, settings, deps, send, this.failures, {
      isStopped: () => this.stopped,
      isSendAborted: () => this.sendController.signal.aborted,
      filter: (entries, resolutions, logIdOf) => this.filter(entries, resolutions, logIdOf),
      wait: (milliseconds) => this.waitAndWatch(milliseconds),
    });
    this.commits = new DeadLetterCommit(name, this.consumer, settings, deps, this.erasures);
    this.replays = new ReplayStage(destination, deps, this.erasures, (batch, logIdOf) => this.retry.run(batch, logIdOf));
    this.dropping = new DropOldestStage(name, destination.kinds, deps, this.queueDepth, this.commits);
  }

  get name(): string {
    return this.destination.name;
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
    await this.reload();
    this.running = this.run();
  }

  /** New entries were committed, or replays requested: end an idle wait. */
  wake(options: { replay?: boolean } = {}): void {
    if (options.replay) this.replays.requested();
    this.wakeController?.abort();
  }

  /**
   * Stops the loop: waits end at once; an in-flight request may finish within
   * `graceMs`, after which it is aborted. Only what was confirmed is committed.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.stopController.abort();
    this.wakeController?.abort();
    const timer = setTimeout(() => this.sendController.abort(), graceMs);
    try {
      await this.running;
    } finally {
      clearTimeout(timer);
    }
    if (this.settings.leaseTtlMs !== null) await this.deps.repository.releaseLease(this.name, this.deps.owner).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!(await this.holdLease())) {
          this.leader = false;
          await this.idle(this.settings.flushIntervalMs);
          continue;
        }
        if (!this.leader) await this.reload();
        if (!this.prepared) {
          await this.destination.prepare?.(this.sendController.signal);
          this.prepared = true;
        }
        const delay = await this.cycle();
        if (delay > 0) await this.idle(delay);
      } catch (error) {
        if (this.stopped) break;
        this.leader = false;
        if (error instanceof LeaseLostError) continue;
        this.failures.failed(this.prepared ? 'queue error' : 'prepare failed', error);
        await this.idle(this.retry.nextBackoff(), false);
      }
    }
  }

  /** One step: returns how long to wait before the next (0: go on at once). */
  private async cycle(): Promise<number> {
    const now = this.deps.clock.now();
    if (this.retry.pausedUntil > now) {
      await this.waitAndWatch(this.retry.pausedUntil - now);
      return 0;
    }
    const highWater = await this.deps.log.highestId(this.deps.db);
    await this.queueDepth.refreshAccepted(highWater);
    if (this.queueDepth.resyncDue) await this.queueDepth.resync(this.position);
    if (this.settings.policy === 'drop_oldest' && this.queueDepth.isOverBound) {
      await this.dropOldest();
      return 0;
    }
    this.dropping.ended();
    const replayed = await this.replays.replayPending();
    if (replayed === 'lease_lost') this.leader = false;
    if (replayed !== 'none') return 0;

    const batch = await nextBatch(this.deps, this.destination, this.position, highWater);
    await this.queueDepth.updateGauges(this.position);
    if (batch.entries.length === 0) {
      // Only entries of other kinds: pass them so retention may trim them.
      if (batch.target > this.position) await this.commit(batch.target, [], new Map(), false);
      return this.settings.flushIntervalMs;
    }
    const due = dueAt(batch, this.settings.flushIntervalMs);
    if (!batch.full && due > this.deps.clock.now()) return due - this.deps.clock.now();

    const run = await this.retry.run(batch.entries, ownLogId);
    if (run.interrupted === 'lease_lost') {
      this.leader = false;
      return 0;
    }
    if (run.interrupted === 'stopped') {
      // Commit the confirmed prefix only; the rest is sent again after restart.
      const firstOpen = batch.entries.findIndex((entry) => !run.resolutions.has(entry.id));
      const prefixTarget = firstOpen === -1 ? batch.target : batch.entries[firstOpen]!.id - 1;
      if (prefixTarget > this.position) await this.commit(prefixTarget, batch.entries, run.resolutions, false);
      return 0;
    }
    // 'drop': the batch's unresolved entries are the oldest of the queue; they go first.
    await this.commit(batch.target, batch.entries, run.resolutions, run.interrupted === 'drop');
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
    this.position = target;
    this.queueDepth.passed(tally.items, tally.bytes);
    if (tally.dropped > 0) this.queueDepth.countDropped(tally.dropped, 'queue_full');
    if (tally.erased > 0) this.queueDepth.countDropped(tally.erased, 'erased');
    this.erasures.prune(this.position);
    await this.queueDepth.updateGauges(this.position);
  }

  private async dropOldest(): Promise<void> {
    const target = await this.dropping.drop(this.position);
    if (target <= this.position) return;
    this.position = target;
    await this.queueDepth.updateGauges(this.position);
  }

  /** Position and depth from the store (start, and after another replica held the queue). */
  private async reload(): Promise<void> {
    this.position = await this.deps.positions.get(this.consumer);
    await this.queueDepth.reload(this.position);
    this.leader = true;
    await this.queueDepth.updateGauges(this.position);
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
      if (this.stopped) return 'stopped';
      if (remaining <= 0) return null;
      await this.deps.sleeper.sleep(Math.min(remaining, this.settings.flushIntervalMs), this.stopController.signal);
      if (this.stopped) return 'stopped';
      if (!(await this.holdLease())) return 'lease_lost';
      await this.queueDepth.refreshAccepted(await this.deps.log.highestId(this.deps.db));
      await this.queueDepth.updateGauges(this.position);
      if (this.settings.policy === 'drop_oldest' && this.queueDepth.isOverBound) return 'drop';
    }
  }

  private async idle(milliseconds: number, wakeable = true): Promise<void> {
    if (this.stopped || milliseconds <= 0) return;
    const wake = new AbortController();
    this.wakeController = wakeable ? wake : null;
    await this.deps.sleeper.sleep(milliseconds, AbortSignal.any([this.stopController.signal, wake.signal]));
    this.wakeController = null;
  }

  private async holdLease(): Promise<boolean> {
    if (this.settings.leaseTtlMs === null) return true;
    const now = this.deps.clock.now();
    return this.deps.repository.acquireLease(this.name, this.deps.owner, now, now + this.settings.leaseTtlMs);
  }
}
