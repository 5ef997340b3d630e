import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import type { Tx } from '../storage/database.js';
import type { LogEntry } from '../ingest-log/log-entry.js';
import type { DerivedStateConsumer } from '../ingest-log/log-consumers.js';
import { RollupDeltas } from './rollup-delta.js';
import { SlaRollupsRepository } from './sla-rollups.repository.js';

/**
 * Folds every ingested request record into its service's minute, hour and day
 * rollups, in the transaction that advances the consumer's position: each record
 * counts exactly once across crashes and replicas. A record goes into the bucket
 * of its own timestamp, so late, out-of-order and back-filled records land in
 * their own minute. The consumer keeps no state in memory (nothing to reload).
 */
@Injectable()
export class SlaRollupConsumer implements DerivedStateConsumer<'request'> {
  readonly name = 'sla';
  readonly kinds = ['request'] as const;
  readonly batchSize = 5000;
  /** Called after each committed batch (the monitor re-evaluates transitions). */
  onCommitted: (() => void) | undefined;

  constructor(
    private readonly rollups: SlaRollupsRepository,
    private readonly clock: Clock,
  ) {}

  async apply(entries: Array<LogEntry<'request'>>, trx: Tx): Promise<void> {
    const deltas = new RollupDeltas();
    for (const entry of entries) {
      const item = entry.payload;
      deltas.add(item.service, entry.eventTime, item.durationMs, !item.success);
    }
    await this.rollups.applyDeltas(trx, deltas, this.clock.now());
  }

  afterCommit(): void {
    this.onCommitted?.();
  }
}
