import type { Clock } from '../../common/clock.js';
import type { QueueFullPolicy } from '../../config/app.config.js';
import type { ConsumerPositionsRepository } from '../../ingest-log/consumer-positions.repository.js';
import type { Db } from '../../storage/database.js';
import type { IngestLogRepository } from '../../ingest-log/ingest-log.repository.js';
import type { IngestLogSignal } from '../../ingest-log/log-consumers.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import type { DeliveryMetrics } from '../delivery.metrics.js';
import type { DeliveryRepository } from '../delivery.repository.js';
import type { DeadLetterReason } from '../delivery.tables.js';
import type { BackoffPolicy, ClockSleeper } from '../delivery.timing.js';
import type { CredentialRedactor } from '../redaction.js';

/**
 * What the stages of a destination's queue share (destination.queue.ts runs
 * them): its settings, its dependencies, and the words they speak to each other.
 */

/** The position of a destination's queue in `consumer_positions`. */
export function deliveryConsumerName(destination: string): string {
  return `delivery:${destination}`;
}

export interface QueueSettings {
  /** Byte bound of the queue (stored bytes of the entries not yet passed). */
  maxBytes: number;
  policy: QueueFullPolicy;
  /** Longest an item waits for a batch to fill before it is sent anyway. */
  flushIntervalMs: number;
  backoff: BackoffPolicy;
  /** Longest a Retry-After may pause the destination (a bogus header must not stop it for days). */
  maxPauseMs: number;
  /** Lease on the queue when several replicas share a Postgres store (queue.lease.ts); null on SQLite (one process). */
  leaseTtlMs: number | null;
  /** Hard bound on one send, whatever the destination does with its own timeouts. */
  sendTimeoutMs: number;
}

export interface QueueLogger {
  log(message: unknown, ...rest: unknown[]): void;
  warn(message: unknown, ...rest: unknown[]): void;
  error(message: unknown, ...rest: unknown[]): void;
}

export interface QueueDependencies {
  db: Db;
  log: IngestLogRepository;
  positions: ConsumerPositionsRepository;
  /** Commits wake the queue's runtime. */
  signal: IngestLogSignal;
  repository: DeliveryRepository;
  metrics: DeliveryMetrics;
  clock: Clock;
  sleeper: ClockSleeper;
  random: () => number;
  logger: QueueLogger;
  /** Applied to everything a destination says before it is logged or stored as a dead letter's detail. */
  redactor: CredentialRedactor;
  /** Identifies this process in leases. */
  owner: string;
}

/** What became of one entry of a batch. */
export type Resolution = { outcome: 'delivered' } | { outcome: 'erased' } | DeadResolution;
export type DeadResolution = { outcome: 'dead'; reason: DeadLetterReason; status: number | null; detail: string };

/** Resolutions by entry id (a replayed dead letter's entry carries the dead letter's id). */
export type Resolutions = Map<number, Resolution>;

/** Why a batch stopped before every entry was resolved. */
export type Interruption = 'stopped' | 'lease_lost' | 'drop';

export interface BatchRun {
  resolutions: Resolutions;
  interrupted: Interruption | null;
}

/** Gives an entry's ingest-log id (a replayed dead letter's entry carries the dead letter's id instead). */
export type LogIdOf = (entry: LogEntry) => number;

export const ownLogId: LogIdOf = (entry) => entry.id;

