import type { Kysely, Transaction } from 'kysely';
import type { AnalyticsTables } from '../analytics/analytics.tables.js';
import type { AnomalyTables } from '../anomalies/anomalies.tables.js';
import type { DeliveryTables } from '../delivery/delivery.tables.js';
import type { SlaTables } from '../sla/sla.tables.js';

/** The five kinds of item ingest accepts; each is one entry of the ingest log. */
export type IngestKind = 'metric' | 'event' | 'log' | 'request' | 'analytics';

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

export interface CoreTables {
  ingest_log: IngestLogTable;
  consumer_positions: ConsumerPositionTable;
}

export interface Database extends CoreTables, SlaTables, AnalyticsTables, AnomalyTables, DeliveryTables {}

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or a transaction: repositories take this so callers choose the unit of work. */
export type Executor = Kysely<Database> | Transaction<Database>;
