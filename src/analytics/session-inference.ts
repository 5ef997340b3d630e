/**
 * Session inference for events that carry no sessionId. Over one user's
 * sessionless events in (timestamp, ingest order), a new session begins at an
 * event when any of these holds:
 * - it is the user's first such event;
 * - the previous event was a `session_end` (which closes its session);
 * - it is a `session_start`;
 * - more than 30 minutes passed since the previous event (inactivity);
 * - 24 hours or more passed since the current session's first event (cap).
 * Each boundary depends only on the events before it, so inference can resume
 * from any stored session's first event: that is how late events are repaired.
 */
export const SESSION_START = 'session_start';
export const SESSION_END = 'session_end';
export const PAGE_VIEW = 'page_view';
export const SESSION_INACTIVITY_MS = 30 * 60_000;
export const SESSION_MAX_MS = 24 * 3_600_000;

/** Session-marking event types: they mark sessions and are not actions. */
export const MARKER_TYPES: readonly string[] = [SESSION_START, SESSION_END];

export interface SequencedEvent {
  logId: number;
  type: string;
  occurredAt: number;
}

/** The session that events being inferred continue from. */
export interface SessionTail {
  key: string;
  startedAt: number;
  lastAt: number;
  closed: boolean;
}

export function givenSessionKey(sessionId: string): string {
  return `g:${sessionId}`;
}

export function inferredSessionKey(firstLogId: number): string {
  return `i:${firstLogId}`;
}

/**
 * Session keys for `events` (sorted by occurredAt, then logId), continuing from
 * `tail` when they all come after it. Returns one key per event.
 */
export function inferSessions(events: readonly SequencedEvent[], tail: SessionTail | null): string[] {
  let current: SessionTail | null = tail ? { ...tail } : null;
  const keys: string[] = [];
  for (const event of events) {
    const startsNew =
      current === null ||
      current.closed ||
      event.type === SESSION_START ||
      event.occurredAt - current.lastAt > SESSION_INACTIVITY_MS ||
      event.occurredAt - current.startedAt >= SESSION_MAX_MS;
    if (startsNew || current === null) {
      current = { key: inferredSessionKey(event.logId), startedAt: event.occurredAt, lastAt: event.occurredAt, closed: false };
    }
    current.lastAt = event.occurredAt;
    current.closed = event.type === SESSION_END;
    keys.push(current.key);
  }
  return keys;
}

/** Sorts events in inference order: timestamp, then ingest order. */
export function compareSequenced(left: SequencedEvent, right: SequencedEvent): number {
  return left.occurredAt - right.occurredAt || left.logId - right.logId;
}
