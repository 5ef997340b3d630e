import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import type { QueueDependencies } from './queue.types.js';

// Ingest byte-rate samples kept for the absorbable-outage gauge.
const RATE_WINDOW_MS = 5 * 60_000;
const MAX_RATE_SAMPLES = 600;
// Depth is recounted from the store this often (erasure deletes rows without an outcome).
const RESYNC_INTERVAL_MS = 5 * 60_000;

type DepthDependencies = Pick<QueueDependencies, 'db' | 'log' | 'metrics' | 'clock'>;

/** What the depth learns from the queue and its runtime. */
export interface DepthSources {
  /** True while the destination is failing or paused by Retry-After. */
  isPaused(now: number): boolean;
  /** The runtime's lag at `position`: age of the oldest entry of the queue's kinds after it. */
  lagSeconds(position: number, now: number): Promise<number>;
}

/**
 * Stage contract — queue depth and its gauges. Keeps the count of what the
 * queue holds (entries of its kinds after its position, up to the highest log
 * id it has counted) and publishes it: depth in items and bytes, age of the
 * oldest item, outage seconds it can still absorb, paused. Counts `accepted`
 * as entries arrive and `dropped` for what the queue passes unsent. It never
 * reads or moves the position: the queue hands it in.
 */
export class QueueDepth {
  /** Highest log id whose entries are counted in `accepted` and the depth. */
  counted = 0;
  items = 0;
  bytes = 0;
  private lastResync = 0;
  private rateSamples: Array<{ at: number; bytes: number }> = [];

  constructor(
    private readonly name: string,
    private readonly kinds: readonly IngestKind[],
    readonly maxBytes: number,
    private readonly deps: DepthDependencies,
    private readonly sources: DepthSources,
  ) {
    deps.metrics.maxBytes.set({ destination: name }, maxBytes);
    for (const outcome of ['accepted', 'delivered', 'dead_lettered', 'dropped']) deps.metrics.items.inc({ destination: name, outcome }, 0);
  }

  get isFull(): boolean {
    return this.bytes >= this.maxBytes;
  }

  /** Over the bound: the drop_oldest policy drops. */
  get isOverBound(): boolean {
    return this.bytes > this.maxBytes;
  }

  get resyncDue(): boolean {
    return this.deps.clock.now() - this.lastResync > RESYNC_INTERVAL_MS;
  }

  /** Recount soon (an erasure may have deleted entries the queue has not read). */
  requestResync(): void {
    this.lastResync = 0;
  }

  /** Counts entries committed since the last look as accepted by this queue. */
  async refreshAccepted(highWater: number): Promise<void> {
    if (highWater <= this.counted) return;
    const added = await this.deps.log.countBetween(this.counted, highWater, this.kinds);
    this.counted = highWater;
    if (added.items === 0) return;
    this.items += added.items;
    this.bytes += added.bytes;
    this.deps.metrics.items.inc({ destination: this.name, outcome: 'accepted' }, added.items);
    this.rateSamples.push({ at: this.deps.clock.now(), bytes: added.bytes });
    if (this.rateSamples.length > MAX_RATE_SAMPLES) this.rateSamples.shift();
  }

  /** Depth from the store (start, and after another replica held the queue). */
  async reload(position: number): Promise<void> {
    const highWater = await this.deps.log.highestId(this.deps.db);
    const backlog = await this.deps.log.countBetween(position, highWater, this.kinds);
    const previous = this.items;
    this.items = backlog.items;
    this.bytes = backlog.bytes;
    this.counted = Math.max(highWater, position);
    // The backlog found at start counts as accepted, so the books balance from then on.
    if (backlog.items > previous) this.deps.metrics.items.inc({ destination: this.name, outcome: 'accepted' }, backlog.items - previous);
    this.lastResync = this.deps.clock.now();
  }

  /**
   * Recounts the depth. Rows of the queue's backlog leave the log unread only
   * by privacy erasure (retention trims below the position, drop_oldest counts
   * its own), so what the recount misses is counted as dropped (erased): the
   * books balance again. Called between batches only, never while one is held.
   */
  async resync(position: number): Promise<void> {
    const backlog = await this.deps.log.countBetween(position, this.counted, this.kinds);
    if (backlog.items < this.items) this.countDropped(this.items - backlog.items, 'erased');
    this.items = backlog.items;
    this.bytes = backlog.bytes;
    this.lastResync = this.deps.clock.now();
  }

  /** The queue passed `items` entries of `bytes` stored bytes. */
  passed(items: number, bytes: number): void {
    this.items = Math.max(0, this.items - items);
    this.bytes = Math.max(0, this.bytes - bytes);
  }

  /** `reason`: one of the fixed list in the help of vigil_delivery_dropped_total (delivery.metrics.ts). */
  countDropped(items: number, reason: 'queue_full' | 'erased'): void {
    this.deps.metrics.items.inc({ destination: this.name, outcome: 'dropped' }, items);
    this.deps.metrics.dropped.inc({ destination: this.name, reason }, items);
  }

  async updateGauges(position: number): Promise<void> {
    const name = this.name;
    const metrics = this.deps.metrics;
    const now = this.deps.clock.now();
    const oldestAge = this.items > 0 ? await this.sources.lagSeconds(position, now) : 0;
    metrics.depthItems.set({ destination: name }, this.items);
    metrics.depthBytes.set({ destination: name }, this.bytes);
    metrics.oldestAge.set({ destination: name }, oldestAge);
    metrics.absorbableOutage.set({ destination: name }, this.absorbableOutageSeconds(now));
    metrics.paused.set({ destination: name }, this.sources.isPaused(now) ? 1 : 0);
  }

  /** Free queue bytes / recent ingest byte rate of this queue's kinds; +Inf when nothing arrives. */
  absorbableOutageSeconds(now = this.deps.clock.now()): number {
    while (this.rateSamples.length > 0 && this.rateSamples[0]!.at < now - RATE_WINDOW_MS) this.rateSamples.shift();
    const free = Math.max(0, this.maxBytes - this.bytes);
    const bytes = this.rateSamples.reduce((sum, sample) => sum + sample.bytes, 0);
    if (bytes === 0) return Number.POSITIVE_INFINITY;
    const windowSeconds = Math.max(60, (now - this.rateSamples[0]!.at) / 1000);
    return free / (bytes / windowSeconds);
  }
}
