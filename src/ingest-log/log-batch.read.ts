import type { Executor } from '../storage/database.js';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogRepository } from './ingest-log.repository.js';
import type { IngestLogTables } from './ingest-log.tables.js';
import type { LogEntry } from './log-entry.js';

/** How much one batch may hold. */
export interface BatchLimits {
  maxItems: number;
  /** Stored bytes; Infinity: no byte limit. */
  maxBytes: number;
}

/** A consumer's next batch, read after its position up to a high-water mark. */
export interface LogBatch<Kind extends IngestKind = IngestKind> {
  /** Entries of the consumer's kinds, within its limits; empty when none wait. */
  entries: Array<LogEntry<Kind>>;
  /** The position a commit of the whole batch moves to (past entries of other kinds too). */
  next: number;
  /** Nothing of the consumer's kinds waits beyond the batch, up to the high-water mark. */
  exhausted: boolean;
  /** The batch reached a limit (items or bytes). */
  full: boolean;
}

/**
 * Cuts what was read (at most `limits.maxItems` entries after `position`, up to `highWater`) into
 * a batch: as many entries as the byte limit allows, always at least one (an entry over the limit
 * alone still goes, and the consumer deals with it). A batch that took everything read, and read
 * fewer than it asked for, is the last: it moves the position to the high-water mark, past the
 * entries of other kinds the read scanned and skipped. Reading up to a fixed high-water mark is
 * what makes that safe: entries up to a committed id never change (appends only, ids visible in
 * order).
 */
export function cutBatch<Kind extends IngestKind>(read: Array<LogEntry<Kind>>, position: number, highWater: number, limits: BatchLimits): LogBatch<Kind> {
  if (highWater <= position) return { entries: [], next: position, exhausted: true, full: false };
  let bytes = 0;
  let take = 0;
  while (take < read.length && (take === 0 || bytes + read[take]!.bytes <= limits.maxBytes)) bytes += read[take++]!.bytes;
  const entries = take === read.length ? read : read.slice(0, take);
  const exhausted = read.length < limits.maxItems && take === read.length;
  return {
    entries,
    next: exhausted ? highWater : entries[entries.length - 1]!.id,
    exhausted,
    full: !exhausted || bytes >= limits.maxBytes,
  };
}

/** The consumer's next batch after `position`, up to `highWater` (see cutBatch). */
export async function readBatch<Kind extends IngestKind>(
  log: IngestLogRepository,
  executor: Executor<IngestLogTables>,
  position: number,
  highWater: number,
  kinds: readonly Kind[],
  limits: BatchLimits,
): Promise<LogBatch<Kind>> {
  if (highWater <= position) return cutBatch([], position, highWater, limits);
  return cutBatch(await log.readAfter(executor, position, highWater, kinds, limits.maxItems), position, highWater, limits);
}

/** Seconds from `oldestReceivedAt` (null: nothing waits) to `now`: a consumer's lag. */
export function lagSecondsOf(oldestReceivedAt: number | null, now: number): number {
  return oldestReceivedAt === null ? 0 : Math.max(0, now - oldestReceivedAt) / 1000;
}

/** The age of the oldest entry of `kinds` after `position`: how far a consumer at it trails ingest. */
export async function lagSeconds(log: IngestLogRepository, position: number, kinds: readonly IngestKind[], now: number): Promise<number> {
  return lagSecondsOf(await log.oldestReceivedAfter(position, kinds), now);
}
