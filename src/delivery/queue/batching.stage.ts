import type { LogBatch } from '../../ingest-log/log-batch.read.js';

/**
 * Stage contract — batching. The consumer runtime reads the queue's next batch
 * after its position up to the high-water mark, as many entries as the
 * destination's limits allow (always at least one, so an entry over the byte
 * limit alone still goes, and is split or dead-lettered by the retry stage),
 * and says where a commit of the batch moves the position (log-batch.read.ts).
 * A full batch goes at once; one that is not waits for the flush interval,
 * counted from its oldest entry's receipt.
 */
export function dueAt(batch: LogBatch, flushIntervalMs: number): number {
  return batch.entries[0]!.receivedAt + flushIntervalMs;
}
