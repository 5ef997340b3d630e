import type { IngestKind } from './database.js';
import type { LogEntry } from './ingest-log.repository.js';

/** A log entry from its stored columns: the payload parsed afresh, its size that of the stored JSON. */
export function logEntryOf(id: number, kind: IngestKind, receivedAt: number, eventTime: number, payload: string): LogEntry {
  return { id, kind, receivedAt, eventTime, payload: JSON.parse(payload) as unknown, bytes: payload.length };
}
