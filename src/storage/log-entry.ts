import type { IngestKind } from './database.js';
import type { LogEntry } from './ingest-log.repository.js';

/**
 * A log entry's payload may be one object shared by every consumer that reads it (see
 * RecentEntries), so no consumer may change it. Production does not enforce this: deeply
 * freezing every item cost about 5 % of the request thread under 1000-point batches. The
 * tests do: test/support turns `frozen` on, so a consumer that writes to a payload throws
 * (modules are strict code) and its test fails. Nothing else may set it.
 */
export const sharedPayloads = { frozen: false };

/** Freezes a JSON value and everything in it. */
export function deepFreeze<Value>(value: Value): Value {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key in value) deepFreeze(value[key]);
  return value;
}

/** A payload about to be shared with consumers: deeply frozen when the tests asked for it. */
export function sharedPayload<Value>(value: Value): Value {
  return sharedPayloads.frozen ? deepFreeze(value) : value;
}

/** A log entry from its stored columns: the payload parsed (see sharedPayload), its size that of the stored JSON. */
export function logEntryOf(id: number, kind: IngestKind, receivedAt: number, eventTime: number, payload: string): LogEntry {
  return { id, kind, receivedAt, eventTime, payload: sharedPayload(JSON.parse(payload) as unknown), bytes: payload.length };
}
