import type { TestDb as Db } from './all-tables.js';
import type { NewLogEntry } from '../../src/ingest-log/log-entry.js';
import type { IngestKind } from '../../src/ingest-log/ingest-log.items.js';

export interface StoredEntry {
  id: number;
  kind: IngestKind;
  receivedAt: number;
  eventTime: number;
  userId: string | null;
  /** The entry's stored JSON. */
  json: string;
}

/**
 * Every entry of the ingest log, in id order, read straight from its rows by the layout
 * IngestLogTable documents: tests check what was stored without going through the
 * repository's own reads.
 */
export async function storedEntries(db: Db, kinds?: readonly IngestKind[]): Promise<StoredEntry[]> {
  let query = db.selectFrom('ingest_log').selectAll().orderBy('id');
  if (kinds) query = query.where('kind', 'in', kinds);
  const entries: StoredEntry[] = [];
  for (const row of await query.execute()) {
    const count = Number(row.entry_count);
    const payloads = count === 1 ? [row.payload] : row.payload.split('\n');
    const eventTimes = count === 1 ? [Number(row.event_time)] : row.event_times!.split(',').map(Number);
    for (let index = 0; index < count; index++) {
      entries.push({
        id: Number(row.id) - count + 1 + index,
        kind: row.kind,
        receivedAt: Number(row.received_at),
        eventTime: eventTimes[index]!,
        userId: row.user_id,
        json: payloads[index]!,
      });
    }
  }
  return entries;
}

/** The stored items of these kinds, parsed, in id order. */
export async function storedItems<Item>(db: Db, kinds: readonly IngestKind[]): Promise<Item[]> {
  return (await storedEntries(db, kinds)).map((entry) => JSON.parse(entry.json) as Item);
}

/** An entry to append whose item need not be a real item of its kind: the log's own tests look at ids, sizes and users only. */
export interface LooseEntry {
  kind: IngestKind;
  eventTime: number;
  userId: string | null;
  item: object;
}

/** Loose entries as the log takes them (append() stores any JSON value). */
export function looseEntries(entries: readonly LooseEntry[]): NewLogEntry[] {
  return entries as NewLogEntry[];
}
