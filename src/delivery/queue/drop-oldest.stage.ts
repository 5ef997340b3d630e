import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import type { DeadLetterCommit } from './dead-letter.commit.js';
import type { QueueDepth } from './queue-depth.gauges.js';
import type { QueueDependencies } from './queue.types.js';

// The drop_oldest policy drops down to this share of the bound, so it does not drop on every commit.
const DROP_TARGET_SHARE = 0.9;
const DROP_SCAN_ROWS = 1000;

type DropDependencies = Pick<QueueDependencies, 'log' | 'logger'>;

/**
 * Stage contract — the drop_oldest policy. When the queue is over its byte
 * bound, passes its oldest entries unsent (counted as dropped, `queue_full`)
 * until it is back under 90 % of the bound, moving the position in its own
 * transaction. Warns once per streak of drops, not per drop.
 */
export class DropOldestStage {
  private streak = false;

  constructor(
    private readonly name: string,
    private readonly kinds: readonly IngestKind[],
    private readonly deps: DropDependencies,
    private readonly depth: QueueDepth,
    private readonly commits: DeadLetterCommit,
  ) {}

  /** The queue is under its bound again: the next drop warns again. */
  ended(): void {
    this.streak = false;
  }

  /** Drops from `position`; returns the new position. */
  async drop(position: number): Promise<number> {
    const goal = this.depth.bytes - this.depth.maxBytes * DROP_TARGET_SHARE;
    let droppedBytes = 0;
    let droppedItems = 0;
    let target = position;
    scan: while (droppedBytes < goal) {
      const rows = await this.deps.log.entrySizesAfter(target, this.depth.counted, this.kinds, DROP_SCAN_ROWS);
      if (rows.length === 0) break;
      for (const row of rows) {
        droppedBytes += row.bytes;
        droppedItems++;
        target = row.id;
        if (droppedBytes >= goal) break scan;
      }
    }
    if (target <= position) return position;
    await this.commits.advance(target);
    this.depth.passed(droppedItems, droppedBytes);
    this.depth.countDropped(droppedItems, 'queue_full');
    if (!this.streak) {
      this.streak = true;
      this.deps.logger.warn(
        { destination: this.name, dropped: droppedItems, maxBytes: this.depth.maxBytes },
        `Delivery queue for ${this.name} is full: dropping its oldest items (policy drop_oldest)`,
      );
    }
    return target;
  }
}
