import type { Generated, Kysely, Transaction } from 'kysely';
import type { AnalyticsTables } from '../analytics/analytics.tables.js';
import type { AnomalyTables } from '../anomalies/anomalies.tables.js';
import type { DeliveryTables } from '../delivery/delivery.tables.js';
import type { SlaTables } from '../sla/sla.tables.js';

/** The five kinds of item ingest accepts; each is one row of the ingest log. */
export type IngestKind = 'metric' | 'event' | 'log' | 'request' | 'analytics';

/**
 * Append-only record of every accepted item. Consumers (SLA, anomalies, analytics,
 * each delivery destination) read it in id order from their own position.
 * `event_time` is the item's own timestamp; `received_at` drives retention;
 * `user_id` is set for items that name a user, so erasure can find them.
 */
export interface IngestLogTable {
  id: Generated<number>;
  kind: IngestKind;
  received_at: number;
  event_time: number;
  user_id: string | null;
  payload: string;
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
