import { Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { requestContext } from '../common/request-context.js';
import { HttpExceptionWithHeaders } from '../common/error.filter.js';
import { VigilMetrics } from '../common/vigil.metrics.js';
import type { IngestKind } from '../ingest-log/ingest-log.items.js';
import { IngestLogRepository } from '../ingest-log/ingest-log.repository.js';
import { type NewLogEntry } from '../ingest-log/log-entry.js';
import { IngestLogSignal } from '../ingest-log/log-consumers.js';

interface Waiting {
  entries: NewLogEntry[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Entries that may wait for the next commit. Past it, ingest answers 503 with
 * Retry-After instead of buffering without bound (the store is not keeping up).
 * One request larger than this (VIGIL_MAX_BATCH allows up to 1,000,000 items) is
 * admitted when nothing else waits, so that it can ever succeed.
 */
const MAX_WAITING_ENTRIES = 200_000;
/** Seconds a client is asked to wait when the store failed a commit. */
const STORE_FAILURE_RETRY_AFTER_SECONDS = 5;

/** Every waiting request's entries, in arrival order. (flatMap took ~60 ns an entry; this ~4.) */
function entriesOf(group: readonly Waiting[]): NewLogEntry[] {
  if (group.length === 1) return group[0]!.entries;
  const entries: NewLogEntry[] = [];
  for (const waiting of group) for (const entry of waiting.entries) entries.push(entry);
  return entries;
}

/**
 * Group commit for the ingest log. At most one commit is in flight; everything
 * that arrives meanwhile goes into the next one, so concurrent requests share a
 * transaction and durability costs one commit per burst, not per request. A
 * request's promise settles only after the transaction holding its entries
 * committed: that is when the 202 may be sent.
 */
@Injectable()
export class GroupCommitter {
  private waiting: Waiting[] = [];
  private waitingEntries = 0;
  private committing: Promise<void> | null = null;
  private stopped = false;
  private failing = false;
  private readonly logger = new Logger('GroupCommitter');

  constructor(
    private readonly log: IngestLogRepository,
    private readonly signal: IngestLogSignal,
    private readonly metrics: VigilMetrics,
    private readonly clock: Clock,
  ) {}

  append(entries: NewLogEntry[]): Promise<void> {
    if (this.stopped) return Promise.reject(new HttpExceptionWithHeaders('Vigil is shutting down; retry on another replica or shortly', 503, { 'retry-after': '5' }));
    if (this.waitingEntries > 0 && this.waitingEntries + entries.length > MAX_WAITING_ENTRIES) {
      return Promise.reject(new HttpExceptionWithHeaders('Ingest is saturated; retry shortly', 503, { 'retry-after': '1' }));
    }
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ entries, resolve, reject });
      this.waitingEntries += entries.length;
      // The loop outlives the request that starts it: run it outside that request's
      // log context, so what it triggers (consumer drains, their logs) is not
      // attributed to an unrelated request id.
      if (this.committing === null) this.committing = requestContext.exit(() => this.commitLoop());
    });
  }

  /** Refuses new entries and resolves when everything accepted so far is committed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.committing;
  }

  private async commitLoop(): Promise<void> {
    // Let the requests that are already parsed join this commit.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.waiting.length > 0) {
      const group = this.waiting;
      const count = this.waitingEntries;
      this.waiting = [];
      this.waitingEntries = 0;
      const started = performance.now();
      try {
        const appended = await this.log.appendCommitted(entriesOf(group), this.clock.now());
        this.log.committed(appended);
        this.metrics.commitDuration.observe((performance.now() - started) / 1000);
        this.metrics.commitEntries.observe(count);
        for (const waiting of group) waiting.resolve();
        const kinds = new Set<IngestKind>();
        for (const waiting of group) {
          // A request's entries are usually all of one kind: look at each change of kind only.
          let previous: IngestKind | undefined;
          for (const entry of waiting.entries) if (entry.kind !== previous) kinds.add((previous = entry.kind));
        }
        this.signal.notify(kinds);
        if (this.failing) this.logger.log('Ingest commits succeed again');
        this.failing = false;
      } catch (error) {
        // The store, not the request, failed: a 503 the client retries, and one log line
        // with the cause per failure streak rather than one per request.
        if (!this.failing) this.logger.error({ err: error }, 'Ingest commit failed; ingest answers 503 until a commit succeeds');
        this.failing = true;
        const unavailable = new HttpExceptionWithHeaders('Storage is unavailable; nothing of this request was stored, retry shortly', 503, {
          'retry-after': String(STORE_FAILURE_RETRY_AFTER_SECONDS),
        });
        for (const waiting of group) waiting.reject(unavailable);
      }
    }
    this.committing = null;
  }
}
