import { Inject, Injectable } from '@nestjs/common';
import type { Db, Executor } from '../storage/database.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import type { IngestLogTables } from './ingest-log.tables.js';

@Injectable()
export class ConsumerPositionsRepository {
  private readonly postgres: boolean;

  constructor(@Inject(DATABASE) private readonly db: Db<IngestLogTables>) {
    this.postgres = isPostgres(db);
  }

  /** Creates the consumer's row at `startAt` (default: the beginning) if it has none. */
  async ensure(consumer: string, now: number, startAt = 0): Promise<void> {
    await this.db
      .insertInto('consumer_positions')
      .values({ consumer, position: startAt, updated_at: now })
      .onConflict((conflict) => conflict.column('consumer').doNothing())
      .execute();
  }

  async get(consumer: string, executor: Executor<IngestLogTables> = this.db): Promise<number> {
    const row = await executor.selectFrom('consumer_positions').select('position').where('consumer', '=', consumer).executeTakeFirst();
    return Number(row?.position ?? 0);
  }

  /**
   * Reads the position and, on Postgres, locks its row for this transaction so
   * that one replica at a time advances a consumer; another replica holding it
   * makes this return null at once (SKIP LOCKED) rather than wait. SQLite has a
   * single writer, so its transaction is lock enough.
   */
  async lock(trx: Executor<IngestLogTables>, consumer: string): Promise<number | null> {
    let query = trx.selectFrom('consumer_positions').select('position').where('consumer', '=', consumer);
    if (this.postgres) query = query.forUpdate().skipLocked();
    const row = await query.executeTakeFirst();
    return row ? Number(row.position) : null;
  }

  async set(executor: Executor<IngestLogTables>, consumer: string, position: number, now: number): Promise<void> {
    await executor.updateTable('consumer_positions').set({ position, updated_at: now }).where('consumer', '=', consumer).execute();
  }

  /**
   * Takes or renews the consumer's lease for `owner` until `expiresAt`, in one statement: true when
   * `owner` holds it (it was free, expired at `now`, or already `owner`'s). Apply consumers hold
   * theirs through ApplyLease, destinations' queues through queueLease (renewed inside their
   * commits: `executor`).
   */
  async acquireLease(consumer: string, owner: string, now: number, expiresAt: number, executor: Executor<IngestLogTables> = this.db): Promise<boolean> {
    const held = await executor
      .insertInto('consumer_leases')
      .values({ consumer, owner, expires_at: expiresAt })
      .onConflict((conflict) =>
        conflict
          .column('consumer')
          .doUpdateSet({ owner, expires_at: expiresAt })
          .where((eb) => eb.or([eb('consumer_leases.owner', '=', owner), eb('consumer_leases.expires_at', '<', now)])),
      )
      .returning('owner')
      .executeTakeFirst();
    return held !== undefined;
  }

  /** Lets `owner`'s lease on the consumer go (another replica may take it at once). */
  async releaseLease(consumer: string, owner: string): Promise<void> {
    await this.db.deleteFrom('consumer_leases').where('consumer', '=', consumer).where('owner', '=', owner).execute();
  }

  async all(): Promise<Array<{ consumer: string; position: number; updatedAt: number }>> {
    const rows = await this.db.selectFrom('consumer_positions').select(['consumer', 'position', 'updated_at']).execute();
    return rows.map((row) => ({ consumer: row.consumer, position: Number(row.position), updatedAt: Number(row.updated_at) }));
  }
}
