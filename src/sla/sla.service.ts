import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock.js';
import { SketchAccumulator, decodePairs, type SketchPairs } from './latency-sketch.js';
import { SlaRollupsRepository, type RollupRow } from './sla-rollups.repository.js';
import { buildStatus, type SlaStatusBody, type WindowCounts, type WindowMeasure } from './sla-status.js';
import type { SlaTarget } from './sla-target.js';
import { SlaTargetsService } from './sla-targets.service.js';
import {
  BURN_WINDOWS,
  DEFAULT_WINDOW,
  LONGEST_WINDOW_MS,
  REPORT_WINDOWS,
  decompose,
  windowRange,
  type ResolutionRange,
  type BurnWindow,
  type ReportWindow,
} from './sla-windows.js';

// Hour and day sketches kept in memory (≈ 1–3 KiB each): 50 services × 30 days
// and 2 days of hours fit several times over. Beyond it the oldest entries go.
const MAX_CACHED_SKETCHES = 20_000;
const BUCKETS_PER_LOOKUP = 500;

/** Statuses of every service with a target or with data, by name. */
export type SlaStatuses = Map<string, SlaStatusBody>;

interface Scope {
  now: number;
  /** One service, or every service. */
  service?: string;
}

/**
 * Computes SLA statuses from the stored rollups (never from process memory), so
 * every replica answers the same numbers and a restart changes none of them.
 * Each window is merged from whole days, whole hours and single minutes.
 */
@Injectable()
export class SlaService {
  /**
   * Encoded sketches of hour and day rows by (resolution, bucket, service), with
   * the revision they were read at. A window first reads the rows without their
   * sketches and fetches only those whose revision changed (any replica's write
   * changes it), so a 30-day window does not move megabytes per call.
   */
  private readonly sketchCache = new Map<string, { revision: number; pairs: SketchPairs }>();
  /** Entries the sketch cache keeps at most (least recently used go first); tests lower it. */
  maxCachedSketches = MAX_CACHED_SKETCHES;

  constructor(
    private readonly rollups: SlaRollupsRepository,
    private readonly targets: SlaTargetsService,
    private readonly clock: Clock,
  ) {}

  /** Every service with a target or with rollups in the last 30 days. */
  async statuses(window?: ReportWindow): Promise<SlaStatuses> {
    const now = this.clock.now();
    const targets = await this.targets.all();
    const measured = await this.rollups.servicesSince(now - LONGEST_WINDOW_MS);
    const services = [...new Set([...targets.keys(), ...measured])].sort();
    return this.evaluate(services, targets, window, { now });
  }

  /** One service's status; null when it has neither a target nor data. */
  async status(service: string, window?: ReportWindow): Promise<SlaStatusBody | null> {
    const now = this.clock.now();
    const targets = await this.targets.all();
    if (!targets.has(service) && (await this.rollups.servicesSince(now - LONGEST_WINDOW_MS, service)).length === 0) return null;
    return (await this.evaluate([service], targets, window, { now, service })).get(service) ?? null;
  }

  private async evaluate(services: string[], targets: Map<string, SlaTarget>, requested: ReportWindow | undefined, scope: Scope): Promise<SlaStatuses> {
    const windowOf = (service: string): ReportWindow => requested ?? targets.get(service)?.window ?? DEFAULT_WINDOW;
    const measures = new Map<ReportWindow, Map<string, WindowMeasure>>();
    for (const window of new Set(services.map(windowOf))) measures.set(window, await this.measure(REPORT_WINDOWS[window], scope));

    const counts = new Map<number, Map<string, WindowCounts>>();
    const countsOver = async (lengthMs: number) => {
      let found = counts.get(lengthMs);
      if (!found) {
        found = await this.count(lengthMs, scope);
        counts.set(lengthMs, found);
      }
      return found;
    };
    const empty: WindowCounts = { total: 0, failed: 0, firstEventAt: null };
    const statuses: SlaStatuses = new Map();
    for (const service of services) {
      const window = windowOf(service);
      const target = targets.get(service) ?? null;
      const measure = measures.get(window)!.get(service) ?? { ...empty, p95Ms: null, p99Ms: null, exact: false };
      let burn: Record<BurnWindow, WindowCounts> | null = null;
      if (target) {
        burn = {} as Record<BurnWindow, WindowCounts>;
        for (const [name, lengthMs] of Object.entries(BURN_WINDOWS) as Array<[BurnWindow, number]>) {
          burn[name] = (await countsOver(lengthMs)).get(service) ?? empty;
        }
      }
      statuses.set(
        service,
        buildStatus({ service, target, window, windowStart: windowRange(scope.now, REPORT_WINDOWS[window]).from, now: scope.now, measure, burn }),
      );
    }
    return statuses;
  }

  /** Counts and latency quantiles per service over the window ending now (exact while it holds few requests). */
  private async measure(lengthMs: number, scope: Scope): Promise<Map<string, WindowMeasure>> {
    const sketches = new Map<string, Array<RollupRow | SketchPairs>>();
    const totals = new Map<string, WindowCounts>();
    for (const part of decompose(windowRange(scope.now, lengthMs))) {
      for (const row of await this.rowsWithSketches(part, scope.service)) {
        addCounts(totals, row);
        const list = sketches.get(row.service) ?? [];
        list.push(row.pairs ?? row);
        sketches.set(row.service, list);
      }
    }
    const accumulator = new SketchAccumulator();
    const measures = new Map<string, WindowMeasure>();
    for (const [service, counts] of totals) {
      accumulator.reset();
      for (const sketch of sketches.get(service) ?? []) {
        if ('keys' in sketch) accumulator.addPairs(sketch);
        else accumulator.add(sketch.sketch!, sketch.exact_ms);
      }
      measures.set(service, { ...counts, p95Ms: accumulator.quantile(0.95), p99Ms: accumulator.quantile(0.99), exact: accumulator.exact });
    }
    return measures;
  }

  private async rowsWithSketches(part: ResolutionRange, service: string | undefined): Promise<Array<RollupRow & { pairs?: SketchPairs }>> {
    if (part.resolution === 'minute') return this.rollups.rangeRows(part, { service, withSketch: true });
    const keyOf = (row: RollupRow) => `${row.resolution}\u0000${row.bucket_start}\u0000${row.service}`;
    const rows = await this.rollups.rangeRows(part, { service, withSketch: false });
    const stale = rows.filter((row) => this.sketchCache.get(keyOf(row))?.revision !== row.revision);
    const fresh = new Map<string, RollupRow & { pairs: SketchPairs }>();
    const buckets = [...new Set(stale.map((row) => row.bucket_start))];
    for (let start = 0; start < buckets.length; start += BUCKETS_PER_LOOKUP) {
      const fetched = await this.rollups.rangeRows(part, { service, withSketch: true, buckets: buckets.slice(start, start + BUCKETS_PER_LOOKUP) });
      for (const row of fetched) {
        const key = keyOf(row);
        const pairs = decodePairs(row.sketch!, row.exact_ms);
        fresh.set(key, { ...row, pairs });
        this.sketchCache.delete(key);
        this.sketchCache.set(key, { revision: row.revision, pairs });
      }
    }
    // Every row takes its sketch before the cache is trimmed: a row this call needs may
    // be among the entries the trim removes. A row rewritten between the two reads is
    // taken whole from the second; one deleted meanwhile (retention) has no sketch.
    const resolved = rows.map((row) => {
      const key = keyOf(row);
      const fetched = fresh.get(key);
      if (fetched) return fetched;
      const cached = this.sketchCache.get(key);
      if (!cached) return { ...row, pairs: decodePairs(Buffer.alloc(0)) };
      this.sketchCache.delete(key);
      this.sketchCache.set(key, cached);
      return { ...row, pairs: cached.pairs };
    });
    for (const key of this.sketchCache.keys()) {
      if (this.sketchCache.size <= this.maxCachedSketches) break;
      this.sketchCache.delete(key);
    }
    return resolved;
  }

  private async count(lengthMs: number, scope: Scope): Promise<Map<string, WindowCounts>> {
    const totals = new Map<string, WindowCounts>();
    for (const part of decompose(windowRange(scope.now, lengthMs))) {
      for (const row of await this.rollups.rangeCounts(part, scope.service)) addCounts(totals, row);
    }
    return totals;
  }
}

function addCounts(totals: Map<string, WindowCounts>, row: { service: string; total: number; failed: number; first_event_at: number }): void {
  const counts = totals.get(row.service);
  if (!counts) {
    totals.set(row.service, { total: row.total, failed: row.failed, firstEventAt: row.first_event_at });
    return;
  }
  counts.total += row.total;
  counts.failed += row.failed;
  counts.firstEventAt = counts.firstEventAt === null ? row.first_event_at : Math.min(counts.firstEventAt, row.first_event_at);
}
