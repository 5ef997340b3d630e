import type { LogEntry } from '../../ingest-log/log-entry.js';
import { logEntryOf } from '../../ingest-log/log-entry.js';
import type { StoredDeadLetter } from '../delivery.repository.js';
import type { Destination } from '../destination.js';
import type { ErasureFilter } from './erasure.filter.js';
import type { BatchRun, DeadResolution, LogIdOf, QueueDependencies } from './queue.types.js';

// Pending replays written by another replica are noticed within this long.
const REPLAY_POLL_MS = 30_000;

type ReplayDependencies = Pick<QueueDependencies, 'db' | 'repository' | 'metrics' | 'clock'>;

/** Sends a batch through the retry stage (RetryStage.run). */
export type BatchSender = (batch: readonly LogEntry[], logIdOf: LogIdOf) => Promise<BatchRun>;

/**
 * Stage contract — dead-letter replay. When a replay was requested (or every
 * REPLAY_POLL_MS, for requests made on another replica), sends this
 * destination's flagged dead letters through the same retry stage as fresh
 * entries, then in one transaction deletes those delivered (or of erased
 * users) and stores a new reason for those refused again. Unresolved ones
 * (stop, drop) stay flagged. Replays never move the queue's position.
 */
export class ReplayStage {
  private hint = true;
  private nextPoll = 0;

  constructor(
    private readonly destination: Destination,
    private readonly deps: ReplayDependencies,
    private readonly erasures: ErasureFilter,
    private readonly send: BatchSender,
  ) {}

  /** A replay was requested: look at once. */
  requested(): void {
    this.hint = true;
  }

  /** Sends pending replays. `none`: there were none (or it was not time to look). */
  async replayPending(): Promise<'none' | 'replayed' | 'lease_lost'> {
    const now = this.deps.clock.now();
    if (!this.hint && now < this.nextPoll) return 'none';
    this.hint = false;
    this.nextPoll = now + REPLAY_POLL_MS;
    const name = this.destination.name;
    const letters = await this.deps.repository.pendingReplays(name, this.destination.limits.maxItems);
    if (letters.length === 0) return 'none';
    const entries = letters.map(entryOfDeadLetter);
    const logIds = new Map(letters.map((letter) => [letter.id, letter.logId]));
    const run = await this.send(entries, (entry) => logIds.get(entry.id)!);
    if (run.interrupted === 'lease_lost') return 'lease_lost';
    const deliveredIds: number[] = [];
    // An erased user's letters are gone once the erasure commits; deleting them here too keeps them from coming back if it rolled back.
    const erasedIds: number[] = [];
    const failed: Array<{ id: number; resolution: DeadResolution }> = [];
    for (const [index, letter] of letters.entries()) {
      const resolution = run.resolutions.get(letter.id);
      if (resolution?.outcome === 'delivered') deliveredIds.push(letter.id);
      else if (resolution?.outcome === 'erased' || (resolution !== undefined && this.erasures.isErased(entries[index]!, letter.logId))) erasedIds.push(letter.id);
      else if (resolution?.outcome === 'dead') failed.push({ id: letter.id, resolution });
    }
    await this.deps.db.transaction().execute(async (trx) => {
      await this.deps.repository.deleteByIds(trx, [...deliveredIds, ...erasedIds]);
      for (const { id, resolution } of failed) {
        await this.deps.repository.markFailedAgain(trx, id, resolution.reason, resolution.status, resolution.detail, now);
      }
    });
    if (deliveredIds.length > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'replay_delivered' }, deliveredIds.length);
    if (failed.length > 0) this.deps.metrics.items.inc({ destination: name, outcome: 'replay_dead_lettered' }, failed.length);
    // More may be pending; unresolved ones (stop, drop) stay flagged for later.
    this.hint = run.interrupted === null;
    return 'replayed';
  }
}

function entryOfDeadLetter(letter: StoredDeadLetter): LogEntry {
  return logEntryOf(letter.id, letter.kind, letter.receivedAt, letter.eventTime, letter.payload);
}
