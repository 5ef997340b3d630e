import type { AnyItem, IngestKind } from './ingest-log.items.js';
import type { AppendedEntries } from './ingest-log.repository.js';
import { sharedPayload, type LogEntry } from './log-entry.js';

/** Heap bytes each slot of the ring costs from the start, held or not: five arrays of 8-byte elements. */
export const RECENT_SLOT_BYTES = 40;
/**
 * Heap bytes an item takes beyond the length of its JSON: measured on parsed metric and log items
 * (a 118-character metric item took 161 bytes of heap, a 104-character log item 144); rounded up.
 */
export const RECENT_ITEM_OVERHEAD_BYTES = 64;
/** A small metric item's heap bytes and slot together: the window's slots are its bytes over this. */
const SMALL_ENTRY_BYTES = 200;

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
 * - Bounded by entries and by an estimate of the heap bytes it holds (its slots, each
 *   held item's JSON length plus RECENT_ITEM_OVERHEAD_BYTES): a share of the memory budget
 *   (src/config/memory-budget.ts). When full it forgets its oldest entries, and consumers
 *   that far behind read the store.
 * - Payloads are kept as the values the writer serialised, and every reader
 *   shares them (parsing the JSON again for each consumer cost more than reading
 *   the row): no reader may change one (see sharedPayloads).
 */
export class RecentEntries {
  /**
   * A ring of `maxEntries` slots, allocated once: entry firstId + n sits in slot
   * (start + n) % maxEntries. The arrays it replaced grew with every add and were
   * copied whenever the evicted prefix was sliced off: at a 500,000-entry window, arrays
   * of hundreds of thousands of elements copied and left to the collector.
   */
  private readonly kinds: Array<IngestKind | undefined>;
  private readonly items: Array<AnyItem | undefined>;
  private readonly receivedAts: Float64Array;
  private readonly eventTimes: Float64Array;
  /** Length of each entry's stored JSON: its `bytes`, and part of what maxBytes bounds. */
  private readonly lengths: Float64Array;
  private firstId = 0;
  private start = 0;
  private held = 0;
  private characters = 0;
  private currentGeneration = 0;

  /**
   * `maxBytes` bounds the estimate of `bytes`, slots included; `maxEntries` the slots.
   * See withinBytes for the window of a memory share.
   */
  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {
    this.kinds = new Array<IngestKind | undefined>(maxEntries).fill(undefined);
    this.items = new Array<AnyItem | undefined>(maxEntries).fill(undefined);
    this.receivedAts = new Float64Array(maxEntries);
    this.eventTimes = new Float64Array(maxEntries);
    this.lengths = new Float64Array(maxEntries);
  }

  /** The window of a memory share: as many slots as small metric items fit in it. */
  static withinBytes(maxBytes: number): RecentEntries {
    return new RecentEntries(Math.max(1, Math.floor(maxBytes / SMALL_ENTRY_BYTES)), maxBytes);
  }

  /** The estimate of the heap bytes held: every slot, and each held item's JSON length plus its overhead. */
  get bytes(): number {
    return this.maxEntries * RECENT_SLOT_BYTES + this.characters + this.held * RECENT_ITEM_OVERHEAD_BYTES;
  }

  /** Changes whenever the held entries may no longer match the store (erasure). */
  get generation(): number {
    return this.currentGeneration;
  }

  get size(): number {
    return this.held;
  }

  /** Entries committed with consecutive ids from `firstId`, appended when `generation` was current. */
  add({ firstId, entries, payloads, receivedAt, generation }: AppendedEntries): void {
    if (generation !== this.currentGeneration || entries.length === 0) return;
    if (this.held === 0 || firstId !== this.firstId + this.held) this.reset(firstId);
    for (let index = 0; index < entries.length; index++) {
      if (this.held === this.maxEntries) this.evictOldest();
      const entry = entries[index]!;
      const slot = (this.start + this.held) % this.maxEntries;
      const length = payloads[index]!.length;
      this.kinds[slot] = entry.kind;
      this.items[slot] = sharedPayload(entry.item);
      this.receivedAts[slot] = receivedAt;
      this.eventTimes[slot] = entry.eventTime;
      this.lengths[slot] = length;
      this.characters += length;
      this.held++;
    }
    while (this.held > 0 && this.bytes > this.maxBytes) this.evictOldest();
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
  read<Kind extends IngestKind>(after: number, upTo: number, kinds: readonly Kind[], limit: number): Array<LogEntry<Kind>> | undefined {
    if (this.held === 0 || after + 1 < this.firstId || upTo > this.firstId + this.held - 1) return undefined;
    const entries: Array<LogEntry<Kind>> = [];
    for (let offset = Math.max(0, after + 1 - this.firstId); offset <= upTo - this.firstId && entries.length < limit; offset++) {
      const slot = (this.start + offset) % this.maxEntries;
      const kind = this.kinds[slot]! as Kind;
      if (!kinds.includes(kind)) continue;
      // A slot holds the kind and the item of one appended entry (add()), which NewLogEntry pairs.
      entries.push(<LogEntry<Kind>>{
        id: this.firstId + offset,
        kind,
        receivedAt: this.receivedAts[slot]!,
        eventTime: this.eventTimes[slot]!,
        payload: this.items[slot],
        bytes: this.lengths[slot]!,
      });
    }
    return entries;
  }

  private reset(firstId: number): void {
    for (let offset = 0; offset < this.held; offset++) this.items[(this.start + offset) % this.maxEntries] = undefined;
    this.firstId = firstId;
    this.start = 0;
    this.held = 0;
    this.characters = 0;
  }

  private evictOldest(): void {
    this.characters -= this.lengths[this.start]!;
    this.items[this.start] = undefined;
    this.kinds[this.start] = undefined;
    this.start = (this.start + 1) % this.maxEntries;
    this.firstId++;
    this.held--;
  }
}
