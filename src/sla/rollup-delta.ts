import { LatencySketch } from './latency-sketch.js';
import { bucketOf } from './sla-windows.js';

/** What a batch adds to one service's minute. */
export interface RollupDelta {
  service: string;
  minute: number;
  total: number;
  failed: number;
  firstEventAt: number;
  sketch: LatencySketch;
}

/** Folds request records into per-service per-minute deltas (by each record's own timestamp). */
export class RollupDeltas {
  private readonly byKey = new Map<string, RollupDelta>();

  get size(): number {
    return this.byKey.size;
  }

  get minutes(): number[] {
    return [...new Set([...this.byKey.values()].map((delta) => delta.minute))];
  }

  add(service: string, timestamp: number, durationMs: number, failed: boolean): void {
    const minute = bucketOf(timestamp, 'minute');
    const key = `${minute}\u0000${service}`;
    let delta = this.byKey.get(key);
    if (!delta) {
      delta = { service, minute, total: 0, failed: 0, firstEventAt: timestamp, sketch: new LatencySketch() };
      this.byKey.set(key, delta);
    }
    delta.total += 1;
    if (failed) delta.failed += 1;
    if (timestamp < delta.firstEventAt) delta.firstEventAt = timestamp;
    delta.sketch.accept(durationMs);
  }

  /** Adds every delta of `other` (a failed flush is put back this way). */
  absorb(other: RollupDeltas): void {
    for (const [key, delta] of other.byKey) {
      const mine = this.byKey.get(key);
      if (!mine) {
        this.byKey.set(key, delta);
        continue;
      }
      mine.total += delta.total;
      mine.failed += delta.failed;
      mine.firstEventAt = Math.min(mine.firstEventAt, delta.firstEventAt);
      mine.sketch.merge(delta.sketch);
    }
  }

  /** Drops the oldest minute; returns how many requests it held. */
  dropOldestMinute(): number {
    const oldest = Math.min(...this.minutes);
    let dropped = 0;
    for (const [key, delta] of this.byKey) {
      if (delta.minute !== oldest) continue;
      dropped += delta.total;
      this.byKey.delete(key);
    }
    return dropped;
  }

  values(): IterableIterator<RollupDelta> {
    return this.byKey.values();
  }
}
