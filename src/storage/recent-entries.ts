import type { IngestKind } from './database.js';
import type { AppendedEntries, LogEntry } from './ingest-log.repository.js';
import { deepFreeze } from './log-entry.js';

/**
 * The newest committed ingest-log entries, held in memory so that consumers
 * which keep up (the usual case) read them without a round trip through the
 * store: on SQLite, reading a row back cost about as much as writing it.
 *
 * Contract:
 * - It holds one run of consecutive ids, with no gap: an append it was not told
 *   about (an internal event written by a consumer) starts a new run at the next
 *   commit, and reads reaching past what it holds go to the store.
 * - Only committed entries enter it (the caller adds after its commit), and an
 *   add whose generation is stale (an erasure ran since its append began) is
 *   dropped, so it never serves an entry the store no longer holds for a user.
 * - Bounded by entries and by payload characters; when full it forgets its
 *   oldest entries, and consumers that far behind read the store.
 * - Payloads are kept as the values the writer serialised, deeply frozen, and
 *   every reader shares them: parsing the JSON again for each consumer cost more
 *   than reading the row. Entries read from the store are frozen alike.
 */
export class RecentEntries {
  private firstId = 0;
  private head = 0;
  private kinds: IngestKind[] = [];
  private receivedAts: number[] = [];
  private eventTimes: number[] = [];
  private items: unknown[] = [];
  /** Length of each entry's stored JSON: its `bytes`, and what maxCharacters bounds. */
  private lengths: number[] = [];
  private characters = 0;
  private currentGeneration = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxCharacters: number,
  ) {}

  /** Changes whenever the held entries may no longer match the store (erasure). */
  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.kinds.length - this.head;
  }

  /** Entries committed with consecutive ids from `firstId`, appended when `generation` was current. */
  add({ firstId, entries, payloads, receivedAt, generation }: AppendedEntries): void {
    if (generation !== this.currentGeneration || entries.length === 0) return;
    if (this.size === 0 || firstId !== this.firstId + this.size) this.reset(firstId);
    for (let index = 0; index < entries.length; index++) {
      const entry = entries[index]!;
      this.kinds.push(entry.kind);
      this.receivedAts.push(receivedAt);
      this.eventTimes.push(entry.eventTime);
      this.items.push(deepFreeze(entry.item));
      const length = payloads[index]!.length;
      this.lengths.push(length);
      this.characters += length;
    }
    this.evict();
  }

  /** Forgets everything; appends begun before this are not taken in afterwards. */
  clear(): void {
    this.currentGeneration++;
    this.reset(0);
  }

  /**
   * What the store would return for entries of `kinds` with after < id <= upTo,
   * in id order, at most `limit`; undefined when some id in that range is not held.
   */
  read(after: number, upTo: number, kinds: readonly IngestKind[], limit: number): LogEntry[] | undefined {
    const size = this.size;
    if (size === 0 || after + 1 < this.firstId || upTo > this.firstId + size - 1) return undefined;
    const entries: LogEntry[] = [];
    const end = this.head + (upTo - this.firstId) + 1;
    for (let index = this.head + Math.max(0, after + 1 - this.firstId); index < end && entries.length < limit; index++) {
      const kind = this.kinds[index]!;
      if (!kinds.includes(kind)) continue;
      entries.push({
        id: this.firstId + (index - this.head),
        kind,
        receivedAt: this.receivedAts[index]!,
        eventTime: this.eventTimes[index]!,
        payload: this.items[index],
        bytes: this.lengths[index]!,
      });
    }
    return entries;
  }

  private reset(firstId: number): void {
    this.firstId = firstId;
    this.head = 0;
    this.kinds = [];
    this.receivedAts = [];
    this.eventTimes = [];
    this.items = [];
    this.lengths = [];
    this.characters = 0;
  }

  private evict(): void {
    while (this.size > 0 && (this.size > this.maxEntries || this.characters > this.maxCharacters)) {
      this.characters -= this.lengths[this.head]!;
      this.items[this.head] = undefined;
      this.head++;
      this.firstId++;
    }
    // Drop the forgotten prefix once it is the larger part, so the arrays stay bounded too.
    if (this.head > 4096 && this.head * 2 > this.kinds.length) {
      this.kinds = this.kinds.slice(this.head);
      this.receivedAts = this.receivedAts.slice(this.head);
      this.eventTimes = this.eventTimes.slice(this.head);
      this.items = this.items.slice(this.head);
      this.lengths = this.lengths.slice(this.head);
      this.head = 0;
    }
  }
}
