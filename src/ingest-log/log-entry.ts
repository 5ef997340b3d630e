import type { IngestKind, ItemByKind } from './ingest-log.items.js';

/**
 * One item read back from the ingest log. Its kind decides its payload's type: a consumer
 * of `LogEntry<'request'>` reads RequestItems, and one of several kinds narrows by
 * `entry.kind` (a discriminated union). The log guarantees the pairing: only validated
 * items of their kind are appended.
 */
export type LogEntry<Kind extends IngestKind = IngestKind> = {
  [K in Kind]: {
    id: number;
    kind: K;
    receivedAt: number;
    eventTime: number;
    /** Possibly shared with other consumers: never to be changed (see sharedPayloads). */
    payload: ItemByKind[K];
    /** Size of the stored JSON, for byte-bounded queues and batches. */
    bytes: number;
  };
}[Kind];

/** One accepted item, as appended to the ingest log. */
export type NewLogEntry<Kind extends IngestKind = IngestKind> = {
  [K in Kind]: {
    kind: K;
    eventTime: number;
    userId: string | null;
    /**
     * The normalised item: append() stores it serialised. Once its transaction commits it
     * is shared with the consumers that read it from memory, so neither the caller nor
     * they may change it (see sharedPayloads).
     */
    item: ItemByKind[K];
    /** The item's JSON, when the caller already wrote it (exactly JSON.stringify's text); otherwise append() writes it. */
    json?: string;
  };
}[Kind];

/** The user an entry's item names (for erasure), or null. */
export function userOfEntry(entry: LogEntry): string | null {
  if (entry.kind === 'analytics') return entry.payload.userId;
  if (entry.kind === 'log') return entry.payload.userId ?? null;
  return null;
}

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

/**
 * A log entry from its stored columns: the payload parsed (see sharedPayload), its size that
 * of the stored JSON. The stored JSON is the item of `kind` that append() wrote: this is
 * where the log's text becomes its typed vocabulary again.
 */
export function logEntryOf<Kind extends IngestKind>(id: number, kind: Kind, receivedAt: number, eventTime: number, payload: string): LogEntry<Kind> {
  const item: ItemByKind[Kind] = sharedPayload(JSON.parse(payload));
  return { id, kind, receivedAt, eventTime, payload: item, bytes: payload.length };
}
