/**
 * Kysely table types owned by the analytics module (created by migration
 * 0004-analytics). Every timestamp is epoch milliseconds.
 */

/**
 * One stored analytics event. `log_id` is the id of its ingest-log entry: the
 * primary key, so applying an entry twice stores it once, and the tie-breaker
 * that orders events sharing a timestamp (ingest order).
 * `session_key` is the session the event belongs to: `g:<sessionId>` when the
 * client gave one, else `i:<log_id of the session's first event>` (inferred).
 * No request metadata (IP address, user agent) is ever stored.
 */
export interface AnalyticsEventTable {
  log_id: number;
  user_id: string;
  session_id: string | null;
  session_key: string;
  type: string;
  page: string | null;
  /** JSON of the event's properties, privacy keys removed; null when none. */
  properties: string | null;
  occurred_at: number;
}

/** One session of one user, aggregated from its events (rebuilt whenever its events change). */
export interface AnalyticsSessionTable {
  user_id: string;
  session_key: string;
  /** 1 when the session was inferred (no sessionId), else 0. */
  inferred: number;
  started_at: number;
  ended_at: number;
  events: number;
  /** Events other than session_start / session_end. */
  actions: number;
  page_views: number;
  /** 1 when the session holds a session_end (which is then its last event). */
  closed: number;
}

/** The UTC days (epoch day numbers) on which a user had at least one event: active users and retention. */
export interface AnalyticsUserDayTable {
  user_id: string;
  day: number;
}

/** Latest event time per user: vigil_active_users is a count over an index on it. */
export interface AnalyticsUserTable {
  user_id: string;
  last_seen: number;
}

/** An id joined to a person by an identify or alias event (migration 0010). */
export interface AnalyticsIdentityTable {
  alias_id: string;
  user_id: string;
  linked_at: number;
}

export interface AnalyticsTables {
  analytics_events: AnalyticsEventTable;
  analytics_sessions: AnalyticsSessionTable;
  analytics_user_days: AnalyticsUserDayTable;
  analytics_users: AnalyticsUserTable;
  analytics_identities: AnalyticsIdentityTable;
}
