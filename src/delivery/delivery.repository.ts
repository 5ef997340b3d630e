import { Inject, Injectable } from '@nestjs/common';
import type { Db, Executor } from '../storage/database.js';
import type { IngestLogTables } from '../ingest-log/ingest-log.tables.js';
import type { DeliveryTables } from './delivery.tables.js';
import type { IngestKind } from '../ingest-log/ingest-log.items.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import type { Selectable } from 'kysely';
import type { DeadLetterReason, DeadLetterTable } from './delivery.tables.js';

/** A dead letter about to be stored. */
export interface NewDeadLetter {
  destination: string;
  logId: number;
  kind: IngestKind;
  eventTime: number;
  receivedAt: number;
  userId: string | null;
  payload: string;
  reason: DeadLetterReason;
  status: number | null;
  detail: string;
}

export interface StoredDeadLetter extends NewDeadLetter {
  id: number;
  deadLetteredAt: number;
  replayRequested: boolean;
}

export interface DeadLetterFilter {
  destination?: string;
  reason?: DeadLetterReason;
}

// Rows per insert: 11 bound parameters a row stays under both stores' parameter limits.
const ROWS_PER_STATEMENT = 1000;

/** Dead letters and the delivery consumers' first positions. */
@Injectable()
export class DeliveryRepository {
  constructor(@Inject(DATABASE) readonly db: Db<DeliveryTables>) {}

  async insertDeadLetters(executor: Executor<DeliveryTables>, letters: readonly NewDeadLetter[], now: number): Promise<void> {
    for (let start = 0; start < letters.length; start += ROWS_PER_STATEMENT) {
      const rows = letters.slice(start, start + ROWS_PER_STATEMENT).map((letter) => ({
        destination: letter.destination,
        log_id: letter.logId,
        kind: letter.kind,
        event_time: letter.eventTime,
        received_at: letter.receivedAt,
        user_id: letter.userId,
        payload: letter.payload,
        reason: letter.reason,
        status: letter.status,
        detail: letter.detail,
        dead_lettered_at: now,
      }));
      await executor.insertInto('delivery_dead_letters').values(rows).execute();
    }
  }

  async counts(filter: DeadLetterFilter = {}): Promise<Array<{ destination: string; reason: DeadLetterReason; count: number }>> {
    let query = this.db
      .selectFrom('delivery_dead_letters')
      .select((eb) => ['destination', 'reason', eb.fn.countAll<number>().as('count')])
      .groupBy(['destination', 'reason'])
      .orderBy('destination')
      .orderBy('reason');
    if (filter.destination) query = query.where('destination', '=', filter.destination);
    if (filter.reason) query = query.where('reason', '=', filter.reason);
    const rows = await query.execute();
    return rows.map((row) => ({ destination: row.destination, reason: row.reason, count: Number(row.count) }));
  }

  /** Items in id order after `afterId`, at most `limit`. */
  async list(filter: DeadLetterFilter, afterId: number, limit: number): Promise<StoredDeadLetter[]> {
    let query = this.db.selectFrom('delivery_dead_letters').selectAll().where('id', '>', afterId).orderBy('id').limit(limit);
    if (filter.destination) query = query.where('destination', '=', filter.destination);
    if (filter.reason) query = query.where('reason', '=', filter.reason);
    return (await query.execute()).map(toStored);
  }

  /** Flags matching dead letters for replay; returns how many. */
  async requestReplay(filter: DeadLetterFilter & { ids?: number[] }): Promise<number> {
    let query = this.db.updateTable('delivery_dead_letters').set({ replay_requested: 1 }).where('replay_requested', '=', 0);
    if (filter.destination) query = query.where('destination', '=', filter.destination);
    if (filter.reason) query = query.where('reason', '=', filter.reason);
    if (filter.ids) query = query.where('id', 'in', filter.ids.length > 0 ? filter.ids : [-1]);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async pendingReplays(destination: string, limit: number): Promise<StoredDeadLetter[]> {
    const rows = await this.db
      .selectFrom('delivery_dead_letters')
      .selectAll()
      .where('destination', '=', destination)
      .where('replay_requested', '=', 1)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toStored);
  }

  /** A replayed dead letter was delivered: it leaves the store. */
  async deleteByIds(executor: Executor<DeliveryTables>, ids: readonly number[]): Promise<void> {
    for (let start = 0; start < ids.length; start += ROWS_PER_STATEMENT) {
      await executor.deleteFrom('delivery_dead_letters').where('id', 'in', ids.slice(start, start + ROWS_PER_STATEMENT)).execute();
    }
  }

  /** A replayed dead letter failed again: it stays, with the new reason, no longer pending. */
  async markFailedAgain(executor: Executor<DeliveryTables>, id: number, reason: DeadLetterReason, status: number | null, detail: string, now: number): Promise<void> {
    await executor
      .updateTable('delivery_dead_letters')
      .set({ reason, status, detail, dead_lettered_at: now, replay_requested: 0 })
      .where('id', '=', id)
      .execute();
  }

  async purge(filter: DeadLetterFilter): Promise<number> {
    let query = this.db.deleteFrom('delivery_dead_letters');
    if (filter.destination) query = query.where('destination', '=', filter.destination);
    if (filter.reason) query = query.where('reason', '=', filter.reason);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Retention: deletes dead letters stored before `cutoff`, except those whose
   * replay was requested (an operator asked for them back; they leave when
   * delivered, or come back with a fresh `dead_lettered_at` when refused again).
   */
  async deleteOlderThan(cutoff: number): Promise<number> {
    const result = await this.db
      .deleteFrom('delivery_dead_letters')
      .where('dead_lettered_at', '<', cutoff)
      .where('replay_requested', '=', 0)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Locks the queues' rows in `consumer_positions` for this transaction on
   * Postgres, waiting for a holder (unlike ConsumerPositionsRepository.lock,
   * which skips). A queue's commit and a user erasure both take it, so one of
   * them sees what the other did (see DestinationQueue.forgetUser). SQLite has
   * a single writer: its transactions are serial already.
   */
  async lockQueuePositions(trx: Executor<DeliveryTables & IngestLogTables>, consumers: readonly string[]): Promise<void> {
    if (!isPostgres(this.db) || consumers.length === 0) return;
    await trx.selectFrom('consumer_positions').select('consumer').where('consumer', 'in', consumers).orderBy('consumer').forUpdate().execute();
  }

  async deleteUser(executor: Executor<DeliveryTables>, userId: string): Promise<number> {
    const result = await executor.deleteFrom('delivery_dead_letters').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toStored(row: Selectable<DeadLetterTable>): StoredDeadLetter {
  return {
    id: Number(row.id),
    destination: row.destination,
    logId: Number(row.log_id),
    kind: row.kind,
    eventTime: Number(row.event_time),
    receivedAt: Number(row.received_at),
    userId: row.user_id,
    payload: row.payload,
    reason: row.reason,
    status: row.status === null ? null : Number(row.status),
    detail: row.detail,
    deadLetteredAt: Number(row.dead_lettered_at),
    replayRequested: Number(row.replay_requested) === 1,
  };
}
