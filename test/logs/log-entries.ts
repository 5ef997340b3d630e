import type { LogItem } from '../../src/ingest-log/ingest-log.items.js';
import type { LogEntry } from '../../src/ingest-log/log-entry.js';

/** An ingest-log entry of kind log, as the repository reads it back (payload parsed from its stored JSON). */
export function logEntry(id: number, item: LogItem, receivedAt = item.timestamp): LogEntry<'log'> {
  const stored = JSON.stringify(item);
  return { id, kind: 'log', receivedAt, eventTime: item.timestamp, payload: JSON.parse(stored) as LogItem, bytes: stored.length };
}

/** `count` distinct logs from `firstId` on, one millisecond apart from `start`. */
export function logEntries(count: number, firstId = 1, start = Date.UTC(2026, 0, 1, 12)): Array<LogEntry<'log'>> {
  return Array.from({ length: count }, (_, offset) =>
    logEntry(firstId + offset, { message: `line ${firstId + offset}`, level: 'info', timestamp: start + offset, service: 'api' }),
  );
}
