import type { Clock } from '../../common/clock.js';
import { userOfEntry, type LogEntry } from '../../ingest-log/log-entry.js';
import type { LogIdOf, Resolutions } from './queue.types.js';

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
 * Stage contract — the erasure filter. Holds the users erased while the queue
 * may still hold their entries, and resolves such entries as `erased` before
 * every send attempt, in the dead-letter commit and in replays: an erased
 * user's entry is never sent, dead-lettered or replayed.
 */
export class ErasureFilter {
  /**
   * Users erased while this queue may hold their entries, in order of erasure:
   * user id -> the highest log id the erasure covers and when it was marked.
   * Bounded by MAX_ERASURES; pruned after each commit (see prune).
   */
  private readonly erasures = new Map<string, { upTo: number; at: number }>();
  /** Entries naming any user with a log id up to this are dropped as erased (MAX_ERASURES overflow). */
  private erasedAnyUserUpTo = 0;

  constructor(private readonly clock: Clock) {}

  /**
   * Privacy erasure of `userId` (see DestinationQueue.forgetUser for the
   * contract): marks it, in memory, up to the larger of `upTo`, `counted` (the
   * highest log id the queue has counted) and an earlier mark.
   */
  mark(userId: string, upTo: number, counted: number): void {
    const mark = Math.max(upTo, counted, this.erasures.get(userId)?.upTo ?? 0);
    // Deleted first so that the map stays in order of erasure.
    this.erasures.delete(userId);
    this.erasures.set(userId, { upTo: mark, at: this.clock.now() });
    if (this.erasures.size > MAX_ERASURES) {
      const [oldestUser, oldest] = this.erasures.entries().next().value!;
      this.erasures.delete(oldestUser);
      this.erasedAnyUserUpTo = Math.max(this.erasedAnyUserUpTo, oldest.upTo);
    }
  }

  /** Resolves entries of erased users as `erased`; returns the rest. */
  without(entries: LogEntry[], resolutions: Resolutions, logIdOf: LogIdOf): LogEntry[] {
    if (this.erasures.size === 0 && this.erasedAnyUserUpTo === 0) return entries;
    return entries.filter((entry) => {
      if (!this.isErased(entry, logIdOf(entry))) return true;
      resolutions.set(entry.id, { outcome: 'erased' });
      return false;
    });
  }

  /** The entry names a user erased at or after its log id `logId`. */
  isErased(entry: LogEntry, logId: number): boolean {
    if (this.erasures.size === 0 && logId > this.erasedAnyUserUpTo) return false;
    const userId = userOfEntry(entry);
    if (userId === null) return false;
    if (logId <= this.erasedAnyUserUpTo) return true;
    const mark = this.erasures.get(userId);
    return mark !== undefined && logId <= mark.upTo;
  }

  /** Forgets marks the position has passed once their transaction has surely ended. */
  prune(position: number): void {
    if (this.erasures.size === 0) return;
    const settled = this.clock.now() - ERASURE_SETTLE_MS;
    for (const [userId, mark] of this.erasures) {
      if (mark.upTo <= position && mark.at <= settled) this.erasures.delete(userId);
    }
  }
}
