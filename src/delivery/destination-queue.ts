import type { Clock } from '../common/clock.js';
import type { QueueFullPolicy } from '../config/app.config.js';
import type { ConsumerPositionsRepository } from '../ingest-log/consumer-positions.repository.js';
import type { Db } from '../storage/database.js';
import type { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import type { LogEntry } from '../ingest-log/log-entry.js';
import { logEntryOf, userOfEntry } from '../ingest-log/log-entry.js';
import type { DeliveryMetrics } from './delivery.metrics.js';
import { type DeliveryRepository, type NewDeadLetter, type StoredDeadLetter } from './delivery.repository.js';
import type { DeadLetterReason } from './delivery.tables.js';
import { backoffDelay, type BackoffPolicy, type ClockSleeper } from './delivery.timing.js';
import type { Destination, SendResult } from './destination.js';
import type { CredentialRedactor } from './redaction.js';

/** The position of a destination's queue in `consumer_positions`. */
export function deliveryConsumerName(destination: string): string {
  return `delivery:${destination}`;
}

export interface QueueSettings {
  /** Byte bound of the queue (stored bytes of the entries not yet passed). */
  maxBytes: number;
  policy: QueueFullPolicy;
  /** Longest an item waits for a batch to fill before it is sent anyway. */
  flushIntervalMs: number;
  backoff: BackoffPolicy;
  /** Longest a Retry-After may pause the destination (a bogus header must not stop it for days). */
  maxPauseMs: number;
  /** Lease on the queue when several replicas share a Postgres store; null on SQLite (one process). */
  leaseTtlMs: number | null;
  /** Hard bound on one send, whatever the destination does with its own timeouts. */
  sendTimeoutMs: number;
}

export interface QueueLogger {
  log(message: unknown, ...rest: unknown[]): void;
  warn(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
}

export interface QueueDependencies {
  db: Db;
  log: IngestLogRepository;
  positions: ConsumerPositionsRepository;
  repository: DeliveryRepository;
  metrics: DeliveryMetrics;
  clock: Clock;
  sleeper: ClockSleeper;
  random: () => number;
  logger: QueueLogger;
  /** Applied to everything a destination says before it is logged or stored as a dead letter's detail. */
  redactor: CredentialRedactor;
  /** Identifies this process in leases. */
  owner: string;
}

type Resolution = { outcome: 'delivered' } | { outcome: 'erased' } | { outcome: 'dead'; reason: DeadLetterReason; status: number | null; detail: string };
type Interruption = 'stopped' | 'lease_lost' | 'drop';
interface BatchRun {
  resolutions: Map<number, Resolution>;
  interrupted: Interruption | null;
}

interface CommitTally {
  delivered: number;
  deadLetters: NewDeadLetter[];
  deadByReason: Map<DeadLetterReason, number>;
  /** Unresolved entries passed by drop_oldest. */
  dropped: number;
  /** Entries of erased users, passed unsent. */
  erased: number;
}

class LeaseLostError extends Error {}

// Ingest byte-rate samples kept for the absorbable-outage gauge.
const RATE_WINDOW_MS = 5 * 60_000;
const MAX_RATE_SAMPLES = 600;
// The drop_oldest policy drops down to this share of the bound, so it does not drop on every commit.
const DROP_TARGET_SHARE = 0.9;
const DROP_SCAN_ROWS = 1000;
// Depth is recounted from the store this often (erasure deletes rows without an outcome).
const RESYNC_INTERVAL_MS = 5 * 60_000;
// Pending replays written by another replica are noticed within this long.
const REPLAY_POLL_MS = 30_000;
// Rejections are logged at most this often per destination.
const REJECTION_LOG_INTERVAL_MS = 60_000;
// Erasure marks a queue holds at once. Beyond it the oldest mark is folded into
// `erasedAnyUserUpTo`: entries naming any user up to its id are dropped as
// erased (privacy before delivery). Reached only when more erasures than this
// arrive while the queue's position is stuck behind them.
const MAX_ERASURES = 10_000;
// A mark is kept at least this long, past the end of the erasure's transaction
// (it is placed just before the commit): a replay read before the commit may
// still hold the user's dead letters, whatever the position.
const ERASURE_SETTLE_MS = 60_000;

/**
 * The durable queue of one destination: a consumer of the ingest log with its
 * own position, and its own loop, so a dead or slow destination delays neither
 * ingest nor any other destination.
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
  /** Highest log id whose entries are counted in `accepted` and the depth. */
  private counted = 0;
  private depthItems = 0;
  private depthBytes = 0;
  private oldestReceivedAt: number | null = null;
  private leader = false;
  private prepared = false;
  private stopped = false;
  private consecutiveFailures = 0;
  private pausedUntil = 0;
  private failingSince: number | null = null;
  /** The refusal of the credentials or settings was logged in the current failure streak. */
  private configurationLogged = false;
  private lastRejectionLog = 0;
  private droppingStreak = false;
  private lastResync = 0;
  private replayHint = true;
  private nextReplayPoll = 0;
  private rateSamples: Array<{ at: number; bytes: number }> = [];
  /**
   * Users erased while this queue may hold their entries, in order of erasure:
   * user id -> the highest log id the erasure covers and when it was marked.
   * Bounded by MAX_ERASURES; pruned in commitLog (see forgetUser).
   */
  private readonly erasures = new Map<string, { upTo: number; at: number }>();
  /** Entries naming any user with a log id up to this are dropped as erased (MAX_ERASURES overflow). */
  private erasedAnyUserUpTo = 0;
  private running: Promise<void> | null = null;
  private readonly stopController = new AbortController();
  private readonly sendController = new AbortController();
  private wakeController: AbortController | null = null;

  constructor(
    readonly destination: Destination,
    private readonly settings: QueueSettings,
    private readonly deps: QueueDependencies,
  ) {
    this.consumer = deliveryConsumerName(destination.name);
    deps.metrics.maxBytes.set({ destination: destination.name }, settings.maxBytes);
    for (const outcome of ['accepted', 'delivered', 'dead_lettered', 'dropped']) deps.metrics.items.inc({ destination: destination.name, outcome }, 0);
  }

  get name(): string {
    return this.destination.name;
  }

  get isFull(): boolean {
    return this.depthBytes >= this.settings.maxBytes;
  }

  get depth(): { items: number; bytes: number; maxBytes: number } {
    return { items: this.depthItems, bytes: this.depthBytes, maxBytes: this.settings.maxBytes };
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
   * A mark is forgotten once the position has passed it and ERASURE_SETTLE_MS
   * have gone by: the log holds no deleted entry beyond the position then.
   */
  forgetUser(userId: string, upTo: number): void {
    const mark = Math.max(upTo, this.counted, this.erasures.get(userId)?.upTo ?? 0);
    // Deleted first so that the map stays in order of erasure.
    this.erasures.delete(userId);
    this.erasures.set(userId, { upTo: mark, at: this.deps.clock.now() });
    if (this.erasures.size > MAX_ERASURES) {
      const [oldestUser, oldest] = this.erasures.entries().next().value!;
      this.erasures.delete(oldestUser);
      this.erasedAnyUserUpTo = Math.max(this.erasedAnyUserUpTo, oldest.upTo);
    }
    // Recount the depth soon: entries erased before this queue read them leave it there.
    this.lastResync = 0;
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
    if (options.replay) this.replayHint = true;
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
        this.noteFailure(this.prepared ? 'queue error' : 'prepare failed', error);
        await this.idle(backoffDelay(this.settings.backoff, this.consecutiveFailures++, this.deps.random), false);
      }
    }
  }

  /** One step: returns how long to wait before the next (0: go on at once). */
  private async cycle(): Promise<number> {
    const now = this.deps.clock.now();
    if (this.pausedUntil > now) {
      await this.waitAndWatch(this.pausedUntil - now);
      return 0;
    }
    const highWater = await this.deps.log.highestId(this.deps.db);
    await this.refreshAccepted(highWater);
    if (now - this.lastResync > RESYNC_INTERVAL_MS) await this.resync();
    if (this.settings.policy === 'drop_oldest' && this.depthBytes > this.settings.maxBytes) {
      await this.dropOldest();
      return 0;
    }
    this.droppingStreak = false;
    if (await this.replayPending()) return 0;

    const { maxItems, maxBytes } = this.destination.limits;
    const entries = await this.deps.log.readAfter(this.deps.db, this.position, highWater, this.destination.kinds, maxItems);
    let bytes = 0;
    let take = 0;
    while (take < entries.length && (take === 0 || bytes + entries[take]!.bytes <= maxBytes)) bytes += entries[take++]!.bytes;
    const batch = entries.slice(0, take);
    const exhausted = entries.length < maxItems && take === entries.length;
    const full = !exhausted || bytes >= maxBytes;
    const target = exhausted ? highWater : batch[batch.length - 1]!.id;
    await this.updateGauges();

    if (batch.length === 0) {
      // Only entries of other kinds: pass them so retention may trim them.
      if (target > this.position) await this.commitLog(target, [], new Map(), false);
      return this.settings.flushIntervalMs;
    }
    const due = batch[0]!.receivedAt + this.settings.flushIntervalMs;
    if (!full && due > this.deps.clock.now()) return due - this.deps.clock.now();

    const run = await this.sendBatch(batch);
    if (run.interrupted === 'lease_lost') {
      this.leader = false;
      return 0;
    }
    if (run.interrupted === 'stopped') {
      // Commit the confirmed prefix only; the rest is sent again after restart.
      const firstOpen = batch.findIndex((entry) => !run.resolutions.has(entry.id));
      const prefixTarget = firstOpen === -1 ? target : batch[firstOpen]!.id - 1;
      if (prefixTarget > this.position) await this.commitLog(prefixTarget, batch, run.resolutions, false);
      return 0;
    }
    // 'drop': the batch's unresolved entries are the oldest of the queue; they go first.
    await this.commitLog(target, batch, run.resolutions, run.interrupted === 'drop');
    return 0;
  }

  /**
   * Sends a batch until every entry is resolved, or the loop is interrupted.
   * `logIdOf` gives an entry's ingest-log id (a replayed dead letter's entry
   * carries the dead letter's id).
   */
  private async sendBatch(batch: readonly LogEntry[], logIdOf: (entry: LogEntry) => number = (entry) => entry.id): Promise<BatchRun> {
    const resolutions = new Map<number, Resolution>();
    const pending: LogEntry[][] = [[...batch]];
    const name = this.name;
    while (pending.length > 0) {
      if (this.stopped) return { resolutions, interrupted: 'stopped' };
      // Checked before every attempt: a user may be erased while the batch waits to be retried.
      const sub = this.withoutExpired(this.withoutErased(pending.shift()!, resolutions, logIdOf), resolutions);
      if (sub.length === 0) continue;
      const result = await this.attempt(sub);
      if (this.stopped && this.sendController.signal.aborted) return { resolutions, interrupted: 'stopped' };
      let retry: LogEntry[] = [];
      let retryAfterMs: number | undefined;
      let retryResult: SendResult | null = null;
      switch (result.outcome) {
        case 'delivered':
          for (const entry of sub) resolutions.set(entry.id, { outcome: 'delivered' });
          break;
        case 'too_large':
          if (sub.length === 1) {
            resolutions.set(sub[0]!.id, { outcome: 'dead', reason: 'too_large', status: result.status ?? 413, detail: result.reason });
          } else {
            const middle = Math.ceil(sub.length / 2);
            pending.unshift(sub.slice(0, middle), sub.slice(middle));
          }
          break;
        case 'permanent':
          for (const entry of sub) resolutions.set(entry.id, { outcome: 'dead', reason: 'rejected', status: result.status ?? null, detail: result.reason });
          this.logRejection(sub.length, result.reason, result.status);
          break;
        case 'retryable':
        case 'throttled':
          retry = sub;
          retryResult = result;
          retryAfterMs = result.outcome === 'throttled' ? result.retryAfterMs : undefined;
          break;
        case 'partial': {
          let rejected = 0;
          sub.forEach((entry, index) => {
            const item = result.items[index] ?? { outcome: 'retryable' as const, reason: 'no result for this item' };
            if (item.outcome === 'delivered') resolutions.set(entry.id, { outcome: 'delivered' });
            else if (item.outcome === 'permanent') {
              rejected++;
              resolutions.set(entry.id, { outcome: 'dead', reason: 'rejected', status: item.status ?? null, detail: item.reason });
            } else {
              retry.push(entry);
              retryResult ??= item;
              if (item.outcome === 'throttled' && item.retryAfterMs !== undefined) retryAfterMs = Math.max(retryAfterMs ?? 0, item.retryAfterMs);
            }
          });
          if (rejected > 0) this.logRejection(rejected, 'rejected items in a partial answer', undefined);
          break;
        }
      }
      if (retry.length === 0) {
        if (result.outcome !== 'too_large') this.noteSuccess();
        continue;
      }
      const reason = retryReason(retryResult!);
      this.deps.metrics.retries.inc({ destination: name, reason });
      this.deps.metrics.items.inc({ destination: name, outcome: 'retried' }, retry.length);
      this.noteFailure(reason, 'reason' in retryResult! ? retryResult.reason : reason, 'status' in retryResult! ? retryResult.status : undefined);
      pending.unshift(retry);
      const now = this.deps.clock.now();
      if (retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + Math.min(retryAfterMs, this.settings.maxPauseMs));
      const wait = Math.max(backoffDelay(this.settings.backoff, this.consecutiveFailures++, this.deps.random), this.pausedUntil - now);
      const interrupted = await this.waitAndWatch(wait);
      if (interrupted) return { resolutions, interrupted };
    }
    return { resolutions, interrupted: null };
  }

  private async attempt(sub: LogEntry[]): Promise<SendResult> {
    const signal = AbortSignal.any([this.sendController.signal, AbortSignal.timeout(this.settings.sendTimeoutMs)]);
    let result: SendResult;
    try {
      result = await this.destination.send(sub, signal);
    } catch (error) {
      result = { outcome: 'retryable', reason: `request failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    this.deps.metrics.requests.inc({ destination: this.name, outcome: result.outcome });
    return this.redacted(result);
  }

  /** The result with its reasons redacted: from here on they reach logs and dead letters. */
  private redacted(result: SendResult): SendResult {
    const redact = (reason: string) => this.deps.redactor.redact(reason);
    if (result.outcome === 'delivered') return result;
    if (result.outcome === 'partial') return { ...result, items: result.items.map((item) => (item.outcome === 'delivered' ? item : { ...item, reason: redact(item.reason) })) };
    return { ...result, reason: redact(result.reason) };
  }

  /** Resolves entries of erased users as `erased` (see forgetUser); returns the rest. */
  private withoutErased(sub: LogEntry[], resolutions: Map<number, Resolution>, logIdOf: (entry: LogEntry) => number): LogEntry[] {
    if (this.erasures.size === 0 && this.erasedAnyUserUpTo === 0) return sub;
    return sub.filter((entry) => {
      if (!this.isErased(entry, logIdOf(entry))) return true;
      resolutions.set(entry.id, { outcome: 'erased' });
      return false;
    });
  }

  /** The entry names a user erased at or after its log id `logId` (see forgetUser). */
  private isErased(entry: LogEntry, logId: number): boolean {
    if (this.erasures.size === 0 && logId > this.erasedAnyUserUpTo) return false;
    const userId = userOfEntry(entry);
    if (userId === null) return false;
    if (logId <= this.erasedAnyUserUpTo) return true;
    const mark = this.erasures.get(userId);
    return mark !== undefined && logId <= mark.upTo;
  }

  /** Forgets erasure marks the position has passed once their transaction has surely ended. */
  private pruneErasures(): void {
    if (this.erasures.size === 0) return;
    const settled = this.deps.clock.now() - ERASURE_SETTLE_MS;
    for (const [userId, mark] of this.erasures) {
      if (mark.upTo <= this.position && mark.at <= settled) this.erasures.delete(userId);
    }
  }

  /** Resolves entries older than the destination accepts as `expired`; returns the rest. */
  private withoutExpired(sub: LogEntry[], resolutions: Map<number, Resolution>): LogEntry[] {
    const now = this.deps.clock.now();
    return sub.filter((entry) => {
      const maxAge = this.destination.limits.maxAgeMs[entry.kind];
      if (maxAge === undefined || entry.eventTime >= now - maxAge) return true;
      resolutions.set(entry.id, {
        outcome: 'dead',
        reason: 'expired',
        status: null,
        detail: `${entry.kind} older than ${this.name} accepts (${Math.round(maxAge / 60_000)} min)`,
      });
      return false;
    });
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
      await this.refreshAccepted(await this.deps.log.highestId(this.deps.db));
      await this.updateGauges();
      if (this.settings.policy === 'drop_oldest' && this.depthBytes > this.settings.maxBytes) return 'drop';
    }
  }

  private async idle(milliseconds: number, wakeable = true): Promise<void> {
    if (this.stopped || milliseconds <= 0) return;
    const wake = new AbortController();
    this.wakeController = wakeable ? wake : null;
    await this.deps.sleeper.sleep(milliseconds, AbortSignal.any([this.stopController.signal, wake.signal]));
    this.wakeController = null;
  }

  /**
   * Stores dead letters and advances the position in one transaction; then
   * counts. The entries are classified inside it, after the position row is
   * locked, so that an erasure committed meanwhile is seen (see forgetUser).
   */
  private async commitLog(target: number, batch: readonly LogEntry[], resolutions: Map<number, Resolution>, dropOpen: boolean): Promise<void> {
    const now = this.deps.clock.now();
    const committed = batch.filter((entry) => entry.id <= target);
    let bytes = 0;
    for (const entry of committed) bytes += entry.bytes;
    let tally: CommitTally | undefined;
    await this.deps.db.transaction().execute(async (trx) => {
      if (this.settings.leaseTtlMs !== null && !(await this.deps.repository.acquireLease(this.name, this.deps.owner, now, now + this.settings.leaseTtlMs, trx))) {
        throw new LeaseLostError();
      }
      await this.deps.repository.lockQueuePositions(trx, [this.consumer]);
      tally = this.tally(committed, resolutions, dropOpen);
      await this.deps.repository.insertDeadLetters(trx, tally.deadLetters, now);
      await this.deps.positions.set(trx, this.consumer, target, now);
    });
    const { delivered, deadLetters, deadByReason, dropped, erased } = tally!;
    this.position = target;
    this.depthItems = Math.max(0, this.depthItems - committed.length);
    this.depthBytes = Math.max(0, this.depthBytes - bytes);
    const name = this.name;
    if (delivered > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'delivered' }, delivered);
    if (deadLetters.length > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'dead_lettered' }, deadLetters.length);
    for (const [reason, count] of deadByReason) this.deps.metrics.deadLettered.inc({ destination: name, reason }, count);
    if (dropped > 0) this.countDropped(dropped, 'queue_full');
    if (erased > 0) this.countDropped(erased, 'erased');
    this.pruneErasures();
    await this.updateGauges();
  }

  /** Outcomes of the entries a commit passes; an erased user's entry is never a dead letter. */
  private tally(committed: readonly LogEntry[], resolutions: Map<number, Resolution>, dropOpen: boolean): CommitTally {
    const tally: CommitTally = { delivered: 0, deadLetters: [], deadByReason: new Map(), dropped: 0, erased: 0 };
    for (const entry of committed) {
      const resolution = resolutions.get(entry.id);
      if (resolution === undefined && !dropOpen) throw new Error(`entry ${entry.id} committed without an outcome`);
      if (resolution?.outcome === 'delivered') tally.delivered++;
      else if (resolution?.outcome === 'erased' || this.isErased(entry, entry.id)) tally.erased++;
      else if (resolution === undefined) tally.dropped++;
      else {
        tally.deadLetters.push(this.deadLetterOf(entry, resolution));
        tally.deadByReason.set(resolution.reason, (tally.deadByReason.get(resolution.reason) ?? 0) + 1);
      }
    }
    return tally;
  }

  /** drop_oldest: passes the oldest entries until the queue is back under its bound. */
  private async dropOldest(): Promise<void> {
    const goal = this.depthBytes - this.settings.maxBytes * DROP_TARGET_SHARE;
    let droppedBytes = 0;
    let droppedItems = 0;
    let target = this.position;
    scan: while (droppedBytes < goal) {
      const rows = await this.deps.log.entrySizesAfter(target, this.counted, this.destination.kinds, DROP_SCAN_ROWS);
      if (rows.length === 0) break;
      for (const row of rows) {
        droppedBytes += row.bytes;
        droppedItems++;
        target = row.id;
        if (droppedBytes >= goal) break scan;
      }
    }
    if (target <= this.position) return;
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      if (this.settings.leaseTtlMs !== null && !(await this.deps.repository.acquireLease(this.name, this.deps.owner, now, now + this.settings.leaseTtlMs, trx))) {
        throw new LeaseLostError();
      }
      await this.deps.positions.set(trx, this.consumer, target, now);
    });
    this.position = target;
    this.depthItems = Math.max(0, this.depthItems - droppedItems);
    this.depthBytes = Math.max(0, this.depthBytes - droppedBytes);
    this.countDropped(droppedItems, 'queue_full');
    if (!this.droppingStreak) {
      this.droppingStreak = true;
      this.deps.logger.warn(
        { destination: this.name, dropped: droppedItems, maxBytes: this.settings.maxBytes },
        `Delivery queue for ${this.name} is full: dropping its oldest items (policy drop_oldest)`,
      );
    }
    await this.updateGauges();
  }

  /** `reason`: one of the fixed list in the help of vigil_delivery_dropped_total (delivery.metrics.ts). */
  private countDropped(items: number, reason: 'queue_full' | 'erased'): void {
    this.deps.metrics.items.inc({ destination: this.name, outcome: 'dropped' }, items);
    this.deps.metrics.dropped.inc({ destination: this.name, reason }, items);
  }

  /** Sends dead letters whose replay was requested, to this destination only. True when there were some. */
  private async replayPending(): Promise<boolean> {
    const now = this.deps.clock.now();
    if (!this.replayHint && now < this.nextReplayPoll) return false;
    this.replayHint = false;
    this.nextReplayPoll = now + REPLAY_POLL_MS;
    const letters = await this.deps.repository.pendingReplays(this.name, this.destination.limits.maxItems);
    if (letters.length === 0) return false;
    const entries = letters.map(entryOfDeadLetter);
    const logIds = new Map(letters.map((letter) => [letter.id, letter.logId]));
    const run = await this.sendBatch(entries, (entry) => logIds.get(entry.id)!);
    if (run.interrupted === 'lease_lost') {
      this.leader = false;
      return true;
    }
    const deliveredIds: number[] = [];
    // An erased user's letters are gone once the erasure commits; deleting them here too keeps them from coming back if it rolled back.
    const erasedIds: number[] = [];
    const failed: Array<{ id: number; resolution: Extract<Resolution, { outcome: 'dead' }> }> = [];
    for (const [index, letter] of letters.entries()) {
      const resolution = run.resolutions.get(letter.id);
      if (resolution?.outcome === 'delivered') deliveredIds.push(letter.id);
      else if (resolution?.outcome === 'erased' || (resolution !== undefined && this.isErased(entries[index]!, letter.logId))) erasedIds.push(letter.id);
      else if (resolution?.outcome === 'dead') failed.push({ id: letter.id, resolution });
    }
    await this.deps.db.transaction().execute(async (trx) => {
      await this.deps.repository.deleteByIds(trx, [...deliveredIds, ...erasedIds]);
      for (const { id, resolution } of failed) {
        await this.deps.repository.markFailedAgain(trx, id, resolution.reason, resolution.status, resolution.detail, now);
      }
    });
    if (deliveredIds.length > 0) this.deps.metrics.items.inc({ destination: this.name, outcome: 'replay_delivered' }, deliveredIds.length);
    if (failed.length > 0) this.deps.metrics.items.inc({ destination: this.name, outcome: 'replay_dead_lettered' }, failed.length);
    // More may be pending; unresolved ones (stop, drop) stay flagged for later.
    this.replayHint = run.interrupted === null;
    return true;
  }

  /** Counts entries committed since the last look as accepted by this queue. */
  private async refreshAccepted(highWater: number): Promise<void> {
    if (highWater <= this.counted) return;
    const added = await this.deps.log.countBetween(this.counted, highWater, this.destination.kinds);
    this.counted = highWater;
    if (added.items === 0) return;
    this.depthItems += added.items;
    this.depthBytes += added.bytes;
    this.deps.metrics.items.inc({ destination: this.name, outcome: 'accepted' }, added.items);
    this.rateSamples.push({ at: this.deps.clock.now(), bytes: added.bytes });
    if (this.rateSamples.length > MAX_RATE_SAMPLES) this.rateSamples.shift();
  }

  /** Position and depth from the store (start, and after another replica held the queue). */
  private async reload(): Promise<void> {
    this.position = await this.deps.positions.get(this.consumer);
    const highWater = await this.deps.log.highestId(this.deps.db);
    const backlog = await this.deps.log.countBetween(this.position, highWater, this.destination.kinds);
    const previous = this.depthItems;
    this.depthItems = backlog.items;
    this.depthBytes = backlog.bytes;
    this.counted = Math.max(highWater, this.position);
    // The backlog found at start counts as accepted, so the books balance from then on.
    if (backlog.items > previous) this.deps.metrics.items.inc({ destination: this.name, outcome: 'accepted' }, backlog.items - previous);
    this.lastResync = this.deps.clock.now();
    this.leader = true;
    await this.updateGauges();
  }

  /**
   * Recounts the depth. Rows of the queue's backlog leave the log unread only
   * by privacy erasure (retention trims below the position, drop_oldest counts
   * its own), so what the recount misses is counted as dropped (erased): the
   * books balance again. Called between batches only, never while one is held.
   */
  private async resync(): Promise<void> {
    const backlog = await this.deps.log.countBetween(this.position, this.counted, this.destination.kinds);
    if (backlog.items < this.depthItems) this.countDropped(this.depthItems - backlog.items, 'erased');
    this.depthItems = backlog.items;
    this.depthBytes = backlog.bytes;
    this.lastResync = this.deps.clock.now();
  }

  private async updateGauges(): Promise<void> {
    const name = this.name;
    const metrics = this.deps.metrics;
    const now = this.deps.clock.now();
    this.oldestReceivedAt = this.depthItems > 0 ? await this.deps.log.oldestReceivedAfter(this.position, this.destination.kinds) : null;
    metrics.depthItems.set({ destination: name }, this.depthItems);
    metrics.depthBytes.set({ destination: name }, this.depthBytes);
    metrics.oldestAge.set({ destination: name }, this.oldestReceivedAt === null ? 0 : Math.max(0, (now - this.oldestReceivedAt) / 1000));
    metrics.absorbableOutage.set({ destination: name }, this.absorbableOutageSeconds(now));
    metrics.paused.set({ destination: name }, this.failingSince !== null || this.pausedUntil > now ? 1 : 0);
  }

  /** Free queue bytes / recent ingest byte rate of this queue's kinds; +Inf when nothing arrives. */
  absorbableOutageSeconds(now = this.deps.clock.now()): number {
    while (this.rateSamples.length > 0 && this.rateSamples[0]!.at < now - RATE_WINDOW_MS) this.rateSamples.shift();
    const free = Math.max(0, this.settings.maxBytes - this.depthBytes);
    const bytes = this.rateSamples.reduce((sum, sample) => sum + sample.bytes, 0);
    if (bytes === 0) return Number.POSITIVE_INFINITY;
    const windowSeconds = Math.max(60, (now - this.rateSamples[0]!.at) / 1000);
    return free / (bytes / windowSeconds);
  }

  private async holdLease(): Promise<boolean> {
    if (this.settings.leaseTtlMs === null) return true;
    const now = this.deps.clock.now();
    return this.deps.repository.acquireLease(this.name, this.deps.owner, now, now + this.settings.leaseTtlMs);
  }

  private deadLetterOf(entry: LogEntry, resolution: Extract<Resolution, { outcome: 'dead' }>): NewDeadLetter {
    return {
      destination: this.name,
      logId: entry.id,
      kind: entry.kind,
      eventTime: entry.eventTime,
      receivedAt: entry.receivedAt,
      userId: userOfEntry(entry),
      payload: JSON.stringify(entry.payload),
      reason: resolution.reason,
      status: resolution.status,
      detail: resolution.detail.slice(0, 1000),
    };
  }

  /**
   * Logs once per failure streak, never per item or batch. A refusal of the
   * credentials or settings is logged once per streak on its own (at error: it
   * does not heal by itself), also when the streak began as an outage.
   */
  private noteFailure(reason: string, detail: unknown, status?: number): void {
    const starting = this.failingSince === null;
    if (starting) {
      this.failingSince = this.deps.clock.now();
      this.deps.metrics.paused.set({ destination: this.name }, 1);
    }
    const redacted = this.deps.redactor.redact(detail instanceof Error ? detail.message : String(detail));
    if (reason === CONFIGURATION_RETRY_REASON) {
      if (this.configurationLogged) return;
      this.configurationLogged = true;
      this.deps.logger.error(
        { destination: this.name, reason, status, detail: redacted },
        `${this.name} refused Vigil's credentials or settings${status === undefined ? '' : ` (HTTP ${status})`}: check its key or token, URL and index. ` +
          'Items stay queued and are retried with backoff until it accepts them; only items older than it accepts are dead-lettered (expired)',
      );
      return;
    }
    if (!starting) return;
    this.deps.logger.warn({ destination: this.name, reason, detail: redacted }, `Delivery to ${this.name} failing (${reason}); retrying with backoff, nothing is lost meanwhile`);
  }

  private noteSuccess(): void {
    this.consecutiveFailures = 0;
    this.configurationLogged = false;
    if (this.failingSince === null) return;
    const seconds = Math.round((this.deps.clock.now() - this.failingSince) / 1000);
    this.failingSince = null;
    this.deps.metrics.paused.set({ destination: this.name }, 0);
    this.deps.logger.log({ destination: this.name, outageSeconds: seconds }, `Delivery to ${this.name} recovered after ${seconds} s`);
  }

  private logRejection(items: number, reason: string, status: number | undefined): void {
    const now = this.deps.clock.now();
    if (now - this.lastRejectionLog < REJECTION_LOG_INTERVAL_MS) return;
    this.lastRejectionLog = now;
    this.deps.logger.warn({ destination: this.name, items, status, reason }, `${this.name} rejected ${items} items; they are in the dead-letter store`);
  }
}

/** The retry reason of a refusal of the credentials or settings (see RetryCause). */
const CONFIGURATION_RETRY_REASON = 'configuration';

/** The `reason` label of vigil_delivery_retries_total: one of the fixed list in its help (delivery.metrics.ts). */
function retryReason(result: SendResult | { outcome: string; status?: number; cause?: string }): string {
  if ('cause' in result && result.cause === 'configuration') return CONFIGURATION_RETRY_REASON;
  if (result.outcome === 'throttled') return 'throttled';
  const status = 'status' in result ? result.status : undefined;
  if (status === undefined) return 'network';
  if (status === 408) return 'timeout';
  return 'server_error';
}

function entryOfDeadLetter(letter: StoredDeadLetter): LogEntry {
  return logEntryOf(letter.id, letter.kind, letter.receivedAt, letter.eventTime, letter.payload);
}
