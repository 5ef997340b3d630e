import type { Tx } from '../../storage/database.js';
import { userOfEntry, type LogEntry } from '../../ingest-log/log-entry.js';
import type { NewDeadLetter } from '../delivery.repository.js';
import type { DeadLetterReason } from '../delivery.tables.js';
import type { ErasureFilter } from './erasure.filter.js';
import type { DeadResolution, QueueDependencies, Resolutions } from './queue.types.js';

type CommitDependencies = Pick<QueueDependencies, 'db' | 'positions' | 'repository' | 'metrics' | 'clock'>;

/** What a commit passed. */
export interface CommitTally {
  /** Entries passed, and their stored bytes. */
  items: number;
  bytes: number;
  delivered: number;
  deadLetters: NewDeadLetter[];
  deadByReason: Map<DeadLetterReason, number>;
  /** Unresolved entries passed by drop_oldest. */
  dropped: number;
  /** Entries of erased users, passed unsent. */
  erased: number;
}

/**
 * Stage contract — the dead-letter commit. Makes a batch's outcome durable:
 * in one transaction (holding the queue's lease, with its position row locked)
 * stores the dead letters and advances the position past what was resolved;
 * then counts delivered and dead-lettered items. Entries are classified inside
 * the transaction, after the lock, so that an erasure committed meanwhile is
 * seen (see DestinationQueue.forgetUser): an erased user's entry is never a
 * dead letter. At least once: nothing is committed before it was sent.
 */
export class DeadLetterCommit {
  constructor(
    private readonly name: string,
    private readonly consumer: string,
    private readonly deps: CommitDependencies,
    private readonly erasures: ErasureFilter,
    /** Renews the queue's lease inside the transaction; throws LeaseLostError when another replica took it. */
    private readonly holdLease: (trx: Tx) => Promise<void>,
  ) {}

  /**
   * Commits the entries of `batch` up to `target` and moves the position to
   * `target`. Every committed entry needs a resolution, except with `dropOpen`
   * (drop_oldest), which passes unresolved ones as dropped.
   */
  async commit(target: number, batch: readonly LogEntry[], resolutions: Resolutions, dropOpen: boolean): Promise<CommitTally> {
    const now = this.deps.clock.now();
    const committed = batch.filter((entry) => entry.id <= target);
    let tally: CommitTally | undefined;
    await this.deps.db.transaction().execute(async (trx) => {
      await this.holdLease(trx);
      await this.deps.repository.lockQueuePositions(trx, [this.consumer]);
      tally = this.tally(committed, resolutions, dropOpen);
      await this.deps.repository.insertDeadLetters(trx, tally.deadLetters, now);
      await this.deps.positions.set(trx, this.consumer, target, now);
    });
    const { delivered, deadLetters, deadByReason } = tally!;
    const name = this.name;
    if (delivered > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'delivered' }, delivered);
    if (deadLetters.length > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'dead_lettered' }, deadLetters.length);
    for (const [reason, count] of deadByReason) this.deps.metrics.deadLettered.inc({ destination: name, reason }, count);
    return tally!;
  }

  /** Moves the position to `target` without sending (drop_oldest), holding the lease. */
  async advance(target: number): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await this.holdLease(trx);
      await this.deps.positions.set(trx, this.consumer, target, now);
    });
  }

  /** Outcomes of the entries a commit passes; an erased user's entry is never a dead letter. */
  private tally(committed: readonly LogEntry[], resolutions: Resolutions, dropOpen: boolean): CommitTally {
    const tally: CommitTally = { items: committed.length, bytes: 0, delivered: 0, deadLetters: [], deadByReason: new Map(), dropped: 0, erased: 0 };
    for (const entry of committed) {
      tally.bytes += entry.bytes;
      const resolution = resolutions.get(entry.id);
      if (resolution === undefined && !dropOpen) throw new Error(`entry ${entry.id} committed without an outcome`);
      if (resolution?.outcome === 'delivered') tally.delivered++;
      else if (resolution?.outcome === 'erased' || this.erasures.isErased(entry, entry.id)) tally.erased++;
      else if (resolution === undefined) tally.dropped++;
      else {
        tally.deadLetters.push(this.deadLetterOf(entry, resolution));
        tally.deadByReason.set(resolution.reason, (tally.deadByReason.get(resolution.reason) ?? 0) + 1);
      }
    }
    return tally;
  }

  private deadLetterOf(entry: LogEntry, resolution: DeadResolution): NewDeadLetter {
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
}
