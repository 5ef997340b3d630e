import { Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import type { Tx } from '../storage/database.js';
import type { AnalyticsTables } from './analytics.tables.js';
import { AnalyticsStoreRepository } from './analytics-store.repository.js';

const IDS_PER_STATEMENT = 500;

/**
 * Who is who: ids joined to a person by identify (an anonymous id) and alias (an earlier id)
 * events, so that funnels, retention and per-user reports follow the person across them.
 * Always inside the caller's transaction (the analytics consumer's batch, an erasure).
 */
@Injectable()
export class AnalyticsIdentitiesRepository {
  constructor(private readonly store: AnalyticsStoreRepository) {}

  /** The person each of `ids` is joined to, for those joined to one. */
  async personsOf(trx: Tx<AnalyticsTables>, ids: readonly string[]): Promise<Map<string, string>> {
    const persons = new Map<string, string>();
    for (let start = 0; start < ids.length; start += IDS_PER_STATEMENT) {
      const rows = await trx.selectFrom('analytics_identities').select(['alias_id', 'user_id']).where('alias_id', 'in', ids.slice(start, start + IDS_PER_STATEMENT)).execute();
      for (const row of rows) persons.set(row.alias_id, row.user_id);
    }
    return persons;
  }

  /** Every id joined to `person`. */
  async aliasesOf(trx: Tx<AnalyticsTables>, person: string): Promise<string[]> {
    return (await trx.selectFrom('analytics_identities').select('alias_id').where('user_id', '=', person).execute()).map((row) => row.alias_id);
  }

  /**
   * Joins `alias` to `person`: the link is stored (ids joined to `alias` move to `person`), and
   * what is stored under `alias` becomes the person's — its events, with their sessions rebuilt
   * under the person (a session id both used is one session), its active days and last-seen time.
   */
  async join(trx: Tx<AnalyticsTables>, alias: string, person: string, linkedAt: number): Promise<void> {
    await trx.updateTable('analytics_identities').set({ user_id: person }).where('user_id', '=', alias).execute();
    await trx
      .insertInto('analytics_identities')
      .values({ alias_id: alias, user_id: person, linked_at: linkedAt })
      .onConflict((conflict) => conflict.column('alias_id').doUpdateSet({ user_id: person, linked_at: linkedAt }))
      .execute();
    const keys = (await trx.selectFrom('analytics_sessions').select('session_key').where('user_id', '=', alias).execute()).map((row) => row.session_key);
    const moved = await trx.updateTable('analytics_events').set({ user_id: person }).where('user_id', '=', alias).executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return;
    await trx.deleteFrom('analytics_sessions').where('user_id', '=', alias).execute();
    await this.store.rebuildSessions(trx, new Map([[person, new Set(keys)]]));
    await trx
      .insertInto('analytics_user_days')
      .columns(['user_id', 'day'])
      .expression((eb) => eb.selectFrom('analytics_user_days').select([sql.lit(person).as('user_id'), 'day']).where('user_id', '=', alias))
      .onConflict((conflict) => conflict.columns(['user_id', 'day']).doNothing())
      .execute();
    await trx.deleteFrom('analytics_user_days').where('user_id', '=', alias).execute();
    const aliasSeen = await trx.selectFrom('analytics_users').select('last_seen').where('user_id', '=', alias).executeTakeFirst();
    await trx.deleteFrom('analytics_users').where('user_id', '=', alias).execute();
    if (aliasSeen !== undefined) {
      const lastSeen = Number(aliasSeen.last_seen);
      await trx
        .insertInto('analytics_users')
        .values({ user_id: person, last_seen: lastSeen })
        .onConflict((conflict) =>
          conflict.column('user_id').doUpdateSet({
            last_seen: sql<number>`case when excluded.last_seen > analytics_users.last_seen then excluded.last_seen else analytics_users.last_seen end`,
          }),
        )
        .execute();
    }
  }

  /** Forgets every link of the person (erasure). */
  async erase(trx: Tx<AnalyticsTables>, person: string): Promise<number> {
    const result = await trx.deleteFrom('analytics_identities').where((eb) => eb.or([eb('user_id', '=', person), eb('alias_id', '=', person)])).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
