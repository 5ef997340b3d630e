import type { IngestKind } from './ingest-log.items.js';

/**
 * Append-only record of every accepted item. Consumers (SLA, anomalies, analytics,
 * each delivery destination) read it entry by entry in id order from their own
 * position; IngestLogRepository is the only code that knows how entries sit in rows.
 *
 * A row holds a run of `entry_count` consecutive entries that share `kind`,
 * `received_at` and `user_id` (one commit, one user or none), at most
 * INGEST_LOG_RUN_ENTRIES of them, so a 1000-point batch costs one row, not a thousand:
 * - `id` is the id of the run's last entry; its entries have ids id - entry_count + 1 .. id;
 * - `payload` is their JSON joined by newlines (JSON text never holds a raw newline);
 * - `event_time` is the first entry's own timestamp, and `event_times` all of them joined
 *   by commas when the run has more than one entry (null otherwise);
 * - `payload_length` is the sum of the entries' JSON lengths;
 * - `received_at` drives retention; `user_id` lets erasure find the rows naming a user.
 */
export interface IngestLogTable {
  id: number;
  kind: IngestKind;
  received_at: number;
  event_time: number;
  user_id: string | null;
  payload: string;
  entry_count: number;
  event_times: string | null;
  /**
   * The entries' JSON lengths summed as JavaScript measures them (UTF-16 code units), so a
   * depth summed by the store matches the entries' `bytes`; null on rows from before runs.
   */
  payload_length: number | null;
}

/** Where each consumer has got to in the ingest log: the last id it has fully applied. */
export interface ConsumerPositionTable {
  consumer: string;
  position: number;
  updated_at: number;
}

/** Which replica runs an apply consumer on a shared store, until when (ApplyLease). */
export interface ConsumerLeaseTable {
  consumer: string;
  owner: string;
  expires_at: number;
}

/** The ingest log's tables (migrations in ./migrations). */
export interface IngestLogTables {
  ingest_log: IngestLogTable;
  consumer_positions: ConsumerPositionTable;
  consumer_leases: ConsumerLeaseTable;
}
