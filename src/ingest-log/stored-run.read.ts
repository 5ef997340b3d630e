import type { Selectable } from 'kysely';
import type { IngestKind } from './ingest-log.items.js';
import type { IngestLogTable } from './ingest-log.tables.js';
import { logEntryOf, sharedPayload, type LogEntry } from './log-entry.js';

/** The columns of a stored run that reads use (IngestLogTable: one row holds a run of entries). */
export type StoredRun = Pick<Selectable<IngestLogTable>, 'id' | 'kind' | 'received_at' | 'event_time' | 'payload' | 'entry_count' | 'event_times'>;

/** The entries of a stored run with after < id <= upTo, passed one by one with their stored JSON. */
export function forEachEntryOf(row: StoredRun, after: number, upTo: number, visit: (id: number, eventTime: number, payload: string) => boolean | void): void {
  const lastId = Number(row.id);
  const count = Number(row.entry_count);
  if (count === 1) {
    if (lastId > after && lastId <= upTo) visit(lastId, Number(row.event_time), row.payload);
    return;
  }
  const firstId = lastId - count + 1;
  const payloads = row.payload.split('\n');
  const eventTimes = row.event_times!.split(',');
  for (let index = Math.max(0, after + 1 - firstId); index < count && firstId + index <= upTo; index++) {
    if (visit(firstId + index, Number(eventTimes[index]), payloads[index]!) === false) return;
  }
}

/**
 * Appends to `into` the log entries of a stored run with after < id <= upTo, at most `limit`, as
 * logEntryOf makes them, the run's wanted part parsed by one JSON.parse (its items joined as one
 * array) rather than one parse and one split-off string an entry: a consumer that trails the window
 * of recent entries reads every entry this way.
 */
export function pushEntriesOfRun<Kind extends IngestKind>(row: StoredRun, kind: Kind, after: number, upTo: number, limit: number, into: Array<LogEntry<Kind>>): void {
  const lastId = Number(row.id);
  const count = Number(row.entry_count);
  const receivedAt = Number(row.received_at);
  if (count === 1) {
    if (lastId > after && lastId <= upTo) into.push(logEntryOf(lastId, kind, receivedAt, Number(row.event_time), row.payload));
    return;
  }
  const firstId = lastId - count + 1;
  const start = Math.max(0, after + 1 - firstId);
  const end = Math.min(count, upTo - firstId + 1, start + limit);
  if (end <= start) return;
  // Stored JSON never holds a raw line break (JSON.stringify escapes it): '\n' separates items only.
  const payload = row.payload;
  let from = 0;
  for (let index = 0; index < start; index++) from = payload.indexOf('\n', from) + 1;
  const begin = from;
  const lengths = new Array<number>(end - start);
  for (let index = 0; index < end - start; index++) {
    const stop = payload.indexOf('\n', from);
    const itemEnd = stop === -1 ? payload.length : stop;
    lengths[index] = itemEnd - from;
    from = itemEnd + 1;
  }
  const items = JSON.parse(`[${payload.slice(begin, from - 1).replaceAll('\n', ',')}]`) as Array<LogEntry<Kind>['payload']>;
  // Event times were written as String() writes numbers, which JSON reads back alike.
  const eventTimes = JSON.parse(`[${row.event_times!}]`) as number[];
  for (let index = 0; index < end - start; index++) {
    into.push(<LogEntry<Kind>>{ id: firstId + start + index, kind, receivedAt, eventTime: eventTimes[start + index]!, payload: sharedPayload(items[index]), bytes: lengths[index]! });
  }
}
