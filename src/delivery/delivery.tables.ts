import type { Generated } from 'kysely';
import type { IngestKind } from '../ingest-log/ingest-log.items.js';

/** Why an item left a destination's queue without being delivered. */
export type DeadLetterReason = 'rejected' | 'expired' | 'too_large';
export const DEAD_LETTER_REASONS: readonly DeadLetterReason[] = ['rejected', 'expired', 'too_large'];

/** One item a destination refused for good; it stays until replayed (and delivered) or purged. */
export interface DeadLetterTable {
  id: Generated<number>;
  destination: string;
  /** The ingest-log id the item had (kept for tracing; the log row itself may be gone). */
  log_id: number;
  kind: IngestKind;
  event_time: number;
  received_at: number;
  /** Set when the item names a user, so privacy erasure finds it. */
  user_id: string | null;
  payload: string;
  reason: DeadLetterReason;
  /** The destination's HTTP status, when there was one. */
  status: number | null;
  detail: string;
  dead_lettered_at: number;
  /** 1 while a replay is pending: the destination's queue sends it again. */
  replay_requested: Generated<number>;
}

/** Kysely table types owned by the delivery module (filled in by its migration). */
export interface DeliveryTables {
  delivery_dead_letters: DeadLetterTable;
}
