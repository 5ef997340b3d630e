import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { ServedRequest } from '../common/http-observers.js';
import type { Db } from '../storage/database.js';
import type { SlaTables } from './sla.tables.js';
import { DATABASE } from '../storage/database.provider.js';
import { RollupDeltas } from './rollup-delta.js';
import { SlaRollupsRepository } from './sla-rollups.repository.js';

/** Vigil's own HTTP API is measured as this service. */
export const OWN_SERVICE = 'vigil';
// Minutes held while the store is unreachable (flushes fail): about two hours.
// When full the oldest minute is dropped and counted.
const MAX_BUFFERED_MINUTES = 120;

/**
 * Aggregates Vigil's own served requests in memory, per minute, and adds them to
 * the rollups on each flush (no storage write per request). Every replica flushes
 * its own, so the `vigil` numbers are the sum over replicas. What is buffered
 * when the process dies (at most one flush interval) is lost.
 */
@Injectable()
export class OwnRequestsRecorder {
  private readonly logger = new Logger('SlaOwnRequests');
  private pending = new RollupDeltas();
  private droppedRequests = 0;
  private flushing: Promise<void> | null = null;
  private failing = false;

  constructor(
    @Inject(DATABASE) private readonly db: Db<SlaTables>,
    private readonly rollups: SlaRollupsRepository,
    private readonly clock: Clock,
  ) {}

  get dropped(): number {
    return this.droppedRequests;
  }

  record(request: ServedRequest): void {
    this.pending.add(OWN_SERVICE, request.finishedAt, request.durationMs, request.statusCode >= 500);
    if (this.pending.size > MAX_BUFFERED_MINUTES) this.droppedRequests += this.pending.dropOldestMinute();
  }

  /** Writes what is buffered; on failure keeps it for the next flush. Never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new RollupDeltas();
    try {
      await this.db.transaction().execute((trx) => this.rollups.applyDeltas(trx, batch, this.clock.now()));
      if (this.failing) this.logger.log('Own-request rollups are written again');
      this.failing = false;
    } catch (error) {
      batch.absorb(this.pending);
      this.pending = batch;
      while (this.pending.size > MAX_BUFFERED_MINUTES) this.droppedRequests += this.pending.dropOldestMinute();
      if (!this.failing) this.logger.error({ err: error }, 'Writing own-request rollups failed; they stay buffered and are retried');
      this.failing = true;
    }
  }
}
