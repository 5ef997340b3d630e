import type { IngestKind } from './database.js';
import type { LogEntry } from './ingest-log.repository.js';

/**
 * Freezes a JSON value and everything in it. A log entry's payload may be one
 * object shared by every consumer that reads it (see RecentEntries), so no
 * consumer may change it; payloads read from the store are frozen too, so a
 * consumer behaves the same whichever way its entries came.
 */
export function deepFreeze<Value>(value: Value): Value {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key in value) deepFreeze(value[key]);
  return value;
}

/** A log entry from its stored columns: the payload parsed and frozen, its size that of the stored JSON. */
export function logEntryOf(id: number, kind: IngestKind, receivedAt: number, eventTime: number, payload: string): LogEntry {
  return { id, kind, receivedAt, eventTime, payload: deepFreeze(JSON.parse(payload) as unknown), bytes: payload.length };
}
