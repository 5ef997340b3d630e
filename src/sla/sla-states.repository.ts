import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { Db, Executor, Tx } from '../storage/database.js';
import { DATABASE, isPostgres } from '../storage/database.provider.js';
import type { SlaStateTable, SlaTables } from './sla.tables.js';

export type AnnouncedState = SlaStateTable['state'];

// Serialises transition announcements between replicas on Postgres.
const TRANSITION_LOCK_KEY = 7_021_979;

/** The last announced SLA state of each service (sla_states). */
@Injectable()
export class SlaStatesRepository {
  // Without tables: the transition transaction is handed to another feature (the internal events
  // appended to the ingest log), and each side takes it as its own view (see storage/database.ts).
  constructor(@Inject(DATABASE) private readonly db: Db) {}

  /** Every service's stored state, read through the executor (the database, or a transaction). */
  async all(executor: Executor<SlaTables> = this.db): Promise<Map<string, AnnouncedState>> {
    const rows = await executor.selectFrom('sla_states').select(['service', 'state']).execute();
    return new Map(rows.map((row) => [row.service, row.state]));
  }

  /**
   * Runs `work` in one transaction that, on Postgres, first takes the transition lock,
   * so two replicas never announce the same transition.
   */
  inTransitionTransaction<Result>(work: (trx: Tx) => Promise<Result>): Promise<Result> {
    return this.db.transaction().execute(async (trx) => {
      if (isPostgres(this.db)) await sql`select pg_advisory_xact_lock(${TRANSITION_LOCK_KEY})`.execute(trx);
      return work(trx);
    });
  }

  async set(trx: Tx<SlaTables>, service: string, state: AnnouncedState, now: number): Promise<void> {
    await trx
      .insertInto('sla_states')
      .values({ service, state, changed_at: now })
      .onConflict((conflict) => conflict.column('service').doUpdateSet({ state, changed_at: now }))
      .execute();
  }
}
