import { Injectable } from '@nestjs/common';
import { AnalyticsStoreRepository, DAY_MS } from './analytics-store.repository.js';
import { ANALYTICS_CONSUMER } from './analytics.consumer.js';

// Events deleted per transaction, so that a large first pass never holds the store for long.
const DELETE_CHUNK = 10_000;

/**
 * Analytics retention by age: events whose own timestamp is older than
 * VIGIL_ANALYTICS_RETENTION_DAYS go, in chunks; then, in one transaction,
 * sessions that ended before the cutoff, user-days wholly before it and users not
 * seen since. Sessions straddling the cutoff are rebuilt from their remaining events.
 */
@Injectable()
export class AnalyticsRetention {
  constructor(private readonly store: AnalyticsStoreRepository) {}

  async run(now: number, retentionDays: number): Promise<number> {
    const cutoff = now - retentionDays * DAY_MS;
    let deleted = 0;
    for (;;) {
      const count = await this.store.database.transaction().execute(async (trx) => {
        await this.store.lockConsumer(trx, ANALYTICS_CONSUMER);
        return this.store.deleteEventsBefore(trx, cutoff, DELETE_CHUNK);
      });
      deleted += count;
      if (count < DELETE_CHUNK) break;
    }
    deleted += await this.store.database.transaction().execute(async (trx) => {
      await this.store.lockConsumer(trx, ANALYTICS_CONSUMER);
      return this.store.trimDerivedBefore(trx, cutoff);
    });
    return deleted;
  }
}
