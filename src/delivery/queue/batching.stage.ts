import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { Destination } from '../destination.js';
import type { QueueDependencies } from './queue.types.js';

/** The next batch of a queue, as read from the ingest log. */
export interface NextBatch {
  /** Entries of the destination's kinds, within its limits; empty when none wait. */
  entries: LogEntry[];
  /** The position a commit of the whole batch moves to (past entries of other kinds too). */
  target: number;
  /** The batch reached a limit (items or bytes): it goes at once. */
  full: boolean;
}

/**
 * Stage contract — batching. Reads the entries after `position` up to the
 * high-water mark, takes as many as the destination's limits allow (always at
 * least one, so an entry over the byte limit alone still goes, and is split or
 * dead-lettered by the retry stage), and says where a commit of the batch moves
 * the position. A batch that is not full waits for the flush interval, counted
 * from its oldest entry's receipt (see dueAt). It reads; it never commits.
 */
export async function nextBatch(deps: Pick<QueueDependencies, 'db' | 'log'>, destination: Destination, position: number, highWater: number): Promise<NextBatch> {
  const { maxItems, maxBytes } = destination.limits;
  const read = await deps.log.readAfter(deps.db, position, highWater, destination.kinds, maxItems);
  let bytes = 0;
  let take = 0;
  while (take < read.length && (take === 0 || bytes + read[take]!.bytes <= maxBytes)) bytes += read[take++]!.bytes;
  const entries = read.slice(0, take);
  const exhausted = read.length < maxItems && take === read.length;
  return {
    entries,
    target: exhausted ? highWater : entries[entries.length - 1]!.id,
    full: !exhausted || bytes >= maxBytes,
  };
}

/** Clock time at which a batch that is not full is sent anyway. */
export function dueAt(batch: NextBatch, flushIntervalMs: number): number {
  return batch.entries[0]!.receivedAt + flushIntervalMs;
}
