import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { Clock } from '../../common/clock.js';
import { rebucket, sameBounds } from '../../common/histogram-buckets.js';
import { KeyOrderMemo } from '../../common/key-order-memo.js';
import type { MetricItem } from '../../ingest-log/ingest-log.items.js';
import { Family, isHistogram, type Series } from './reexposed-family.js';
import {
  exposedMetricName,
  sanitiseLabelName,
  sanitiseMetricName,
  toBaseUnit,
  unitConversion,
  type UnitConversion,
} from './metric-naming.js';

export interface ReexpositionLimits {
  /**
   * Series across every re-exposed metric. A point that would open one more evicts the series idle longest
   * when that one has been idle for at least `seriesMinIdleSeconds`; otherwise it is dropped (`max_series`).
   */
  maxSeries: number;
  /** Distinct values of one label within one metric; a point bringing one more is dropped (`max_label_values`). */
  maxLabelValuesPerMetric: number;
  /** A series that received no point for this long disappears from /metrics and from memory. */
  seriesTtlSeconds: number;
  /**
   * At the series cap, how long (clock time) a series must have received no point before a new series may
   * evict it. At most the TTL (the config checks). Default: DEFAULT_MIN_IDLE_SECONDS, or the TTL if shorter.
   */
  seriesMinIdleSeconds?: number;
}

/** Default of ReexpositionLimits.seriesMinIdleSeconds (VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS). */
export const DEFAULT_MIN_IDLE_SECONDS = 60;

/** Why a posted point did not reach /metrics; the values of `reason` on vigil_metrics_dropped_series_total. */
export const DROP_REASONS = ['max_series', 'max_label_values', 'type_conflict', 'name_conflict', 'negative_count'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Sanitised label names of a tag set, with the first-sorting original kept on a collision. */
interface LabelPlan {
  names: string[];
  keys: string[];
  /** The names joined: the first part of the key of every series of this plan. */
  namesKey: string;
}

const MAX_CACHED_NAMES = 10_000;

/**
 * `cache`'s value for `key`, computed from the key on a miss; a cache that reaches
 * MAX_CACHED_NAMES is emptied first. Per-point callers pass a named function, not a closure.
 */
function cached<Value>(cache: Map<string, Value>, key: string, compute: (key: string) => Value): Value {
  let value = cache.get(key);
  if (value === undefined) {
    if (cache.size >= MAX_CACHED_NAMES) cache.clear();
    value = compute(key);
    cache.set(key, value);
  }
  return value;
}
const NO_UNIT = unitConversion(undefined);


/**
 * Ingested metric points re-exposed on /metrics as statsd_exporter does (naming policy: metric-naming.ts).
 *
 * Per replica, with Prometheus semantics: each replica exposes the points it accepted itself, counters from its
 * own start, so Prometheus `sum()`/`rate()` over the replicas' series gives the whole. Memory is bounded by
 * `maxSeries` series (each with at most one label set and, for histograms, one count per bucket) plus the label
 * value index; what does not fit is dropped and counted in `vigil_metrics_dropped_series_total{reason}`.
 *
 * At the cap, a new series first frees expired series (TTL), then evicts the series idle longest (the one whose
 * last point is oldest by the clock) if it has been idle `seriesMinIdleSeconds`, counted in
 * `vigil_metrics_series_evicted_total`; else the new series is refused (`reason="max_series"`). Finding that
 * series is O(1): `byLastSeen` holds every series in order of its last point.
 */
export class ReexposedMetrics {
  private readonly families = new Map<string, Family>();
  /** Every sample name rendered by a family → that family (histograms claim `_bucket`, `_sum`, `_count`). */
  private readonly claimedNames = new Map<string, Family>();
  private readonly metricNames = new Map<string, string>();
  private readonly labelPlans = new Map<string, LabelPlan>();
  private readonly lastLabelPlan = new KeyOrderMemo((tagKeys) => this.labelPlanOf(tagKeys));
  private readonly unitConversions = new Map<string, UnitConversion>();
  /** Scratch key of observeOne's lookups, so a point that finds its series allocates no key. */
  private readonly lookupKey: string[] = [];
  /**
   * Every series held, oldest `lastSeen` first: a series that receives a point at a later clock time is moved
   * to the end. (Should the clock step back, the order is that of the points' arrival: the first series is
   * still the one that went longest without a point.)
   */
  private readonly byLastSeen = new Set<Series>();
  private seriesCount = 0;
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly ttlMs: number;
  private readonly minIdleMs: number;
  private readonly sweepIntervalMs: number;
  readonly dropped: Counter<'reason'>;
  readonly evicted: Counter;

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly limits: ReexpositionLimits,
    /** Names Vigil itself exposes: a re-exposed family never takes one (checked when a family is created). */
    private readonly isTakenElsewhere: (name: string) => boolean = (name) => registry.getSingleMetric(name) !== undefined,
  ) {
    this.ttlMs = limits.seriesTtlSeconds * 1000;
    this.minIdleMs = Math.min(limits.seriesMinIdleSeconds ?? DEFAULT_MIN_IDLE_SECONDS, limits.seriesTtlSeconds) * 1000;
    // Expired series are hidden at once (get() filters them) and freed by a sweep at most this often.
    this.sweepIntervalMs = Math.max(1000, Math.min(this.ttlMs / 4, 60_000));
    this.dropped = new Counter({
      name: 'vigil_metrics_dropped_series_total',
      help: 'Ingested metric points not re-exposed on /metrics, by reason (max_series, max_label_values, type_conflict, name_conflict, negative_count)',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
    this.evicted = new Counter({
      name: 'vigil_metrics_series_evicted_total',
      help: 'Re-exposed series removed at VIGIL_METRICS_MAX_SERIES to make room for a new one (idle at least VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS)',
      registers: [registry],
    });
    const sweepAndCount = () => {
      this.sweep();
      return this.seriesCount;
    };
    new Gauge({
      name: 'vigil_metrics_reexposed_series',
      help: 'Series of ingested metrics currently re-exposed on /metrics (at most VIGIL_METRICS_MAX_SERIES)',
      registers: [registry],
      collect() {
        this.set(sweepAndCount());
      },
    });
  }

  /** Series held now (live or expired but not yet swept). */
  get size(): number {
    return this.seriesCount;
  }

  /** Series whose last point is older than this clock time are expired. */
  oldestLiveTime(): number {
    return this.clock.now() - this.ttlMs;
  }

  /** Applies committed metric items. Never throws: a point that cannot be exposed is counted and skipped. */
  observe(items: ReadonlyArray<MetricItem>): void {
    const now = this.clock.now();
    if (now - this.lastSweep >= this.sweepIntervalMs) this.sweep(now);
    for (const item of items) {
      const reason = this.observeOne(item, now);
      if (reason) this.dropped.inc({ reason });
    }
  }

  private observeOne(item: MetricItem, now: number): DropReason | null {
    if (item.type === 'count' && !(item.value >= 0)) return 'negative_count';
    const key = this.sanitisedName(item.name);
    const unit = this.unitConversionOf(item.unit);
    let family = this.families.get(key);
    if (family && (family.itemType !== item.type || family.unit.unitClass !== unit.unitClass || family.unit.factor !== unit.factor)) {
      return 'type_conflict';
    }

    const plan = this.lastLabelPlan.of(item.tags);
    const lookupKey = this.lookupKey;
    lookupKey[0] = plan.namesKey;
    for (let index = 0; index < plan.keys.length; index++) lookupKey[index + 1] = item.tags[plan.keys[index]!]!;
    let series = family?.index.get(lookupKey, plan.keys.length + 1);

    if (!series) {
      // The series to evict for this one, decided before anything changes and evicted only once the point is
      // known to fit (a point dropped for another reason evicts nothing).
      let evict: Series | undefined;
      if (this.seriesCount >= this.limits.maxSeries) {
        // Full: free expired series first, at most once per clock millisecond so a flood costs one sweep.
        if (now > this.lastSweep) this.sweep(now);
        if (this.seriesCount >= this.limits.maxSeries) {
          evict = this.idlest(now);
          if (!evict) return 'max_series';
        }
      }
      if (!family) {
        const created = this.createFamily(key, item, unit);
        if (typeof created === 'string') return created;
        family = created;
      }
      for (let index = 0; index < plan.names.length; index++) {
        const values = family.labelValues.get(plan.names[index]!);
        const value = item.tags[plan.keys[index]!]!;
        if (values && !values.has(value) && values.size >= this.limits.maxLabelValuesPerMetric) {
          if (family.series.size === 0) this.removeFamily(family);
          return 'max_label_values';
        }
      }
      if (evict) {
        // Its family, left empty, is unregistered, unless it is the family this point is about to join.
        this.removeSeries(evict, evict.family !== family);
        this.evicted.inc();
      }
      const labels: Record<string, string> = {};
      for (let index = 0; index < plan.names.length; index++) {
        const name = plan.names[index]!;
        const value = item.tags[plan.keys[index]!]!;
        labels[name] = value;
        let values = family.labelValues.get(name);
        if (!values) family.labelValues.set(name, (values = new Map()));
        values.set(value, (values.get(value) ?? 0) + 1);
      }
      series = {
        family,
        key: lookupKey.slice(0, plan.keys.length + 1),
        labels,
        lastSeen: now,
        value: 0,
        valueTimestamp: Number.NEGATIVE_INFINITY,
        bucketCounts: isHistogram(item.type) ? new Float64Array(family.buckets.length + 1) : undefined,
        sum: 0,
        count: 0,
      };
      family.series.add(series);
      family.index.set(series.key, series);
      this.seriesCount++;
      this.byLastSeen.add(series);
    } else if (series.lastSeen !== now) {
      this.byLastSeen.delete(series);
      this.byLastSeen.add(series);
    }

    series.lastSeen = now;
    const value = toBaseUnit(item.value, family!.unit);
    if (item.type === 'gauge') {
      if (item.timestamp >= series.valueTimestamp) {
        series.value = value;
        series.valueTimestamp = item.timestamp;
      }
    } else if (item.type === 'count') {
      series.value += value;
    } else if (item.histogram) {
      // A family keeps the bounds of its first point; a point on other bounds (an exponential
      // histogram that rescaled) is re-bucketed onto them.
      const bounds = family!.unit.factor === 1 ? item.histogram.bounds : item.histogram.bounds.map((bound) => toBaseUnit(bound, family!.unit));
      const counts = sameBounds(bounds, family!.buckets) ? item.histogram.counts : rebucket(item.histogram.counts, bounds, family!.buckets);
      for (let index = 0; index < counts.length; index++) series.bucketCounts![index]! += counts[index]!;
      series.sum += value;
      series.count += item.histogram.count;
    } else {
      const buckets = family!.buckets;
      let index = 0;
      while (index < buckets.length && value > buckets[index]!) index++;
      series.bucketCounts![index]!++;
      series.sum += value;
      series.count++;
    }
    return null;
  }

  private createFamily(key: string, item: MetricItem, unit: UnitConversion): Family | DropReason {
    const name = exposedMetricName(item.name, item.type, unit);
    const unitNote = unit.unitClass === 'none' ? (unit.source ? `, unit ${unit.source}` : '') : `, posted in ${unit.source}, exposed in ${unit.unitClass}`;
    const help = `Ingested metric ${item.name} (${item.type}${unitNote}), re-exposed by Vigil`;
    const bounds = item.histogram?.bounds.map((bound) => toBaseUnit(bound, unit));
    const family = new Family(key, item.type, unit, name, help, this, bounds);
    for (const sampleName of family.sampleNames()) {
      if (this.claimedNames.has(sampleName) || this.isTakenElsewhere(sampleName)) return 'name_conflict';
    }
    // A gauge `x_bucket` must not render inside histogram `x` either.
    const histogramBase = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
    const claimed = histogramBase === undefined ? undefined : this.claimedNames.get(histogramBase);
    if (claimed && isHistogram(claimed.itemType)) return 'name_conflict';
    for (const sampleName of family.sampleNames()) this.claimedNames.set(sampleName, family);
    this.families.set(key, family);
    this.registry.registerMetric(family as unknown as Metric);
    return family;
  }

  private removeFamily(family: Family): void {
    for (const sampleName of family.sampleNames()) this.claimedNames.delete(sampleName);
    this.families.delete(family.key);
    this.registry.removeSingleMetric(family.name);
  }

  /** The series idle longest, if it has had no point for at least the minimum idle time; else undefined. */
  private idlest(now: number): Series | undefined {
    for (const series of this.byLastSeen) return now - series.lastSeen >= this.minIdleMs ? series : undefined;
    return undefined;
  }

  /** Frees series idle for longer than the TTL, and families left without series. */
  sweep(now = this.clock.now()): void {
    this.lastSweep = now;
    const oldestLive = now - this.ttlMs;
    for (const family of [...this.families.values()]) {
      for (const series of family.series) if (series.lastSeen < oldestLive) this.removeSeries(series, false);
      if (family.series.size === 0) this.removeFamily(family);
    }
  }

  /** Forgets a series and its label values; `removeEmptyFamily`: unregisters its family if left without series. */
  private removeSeries(series: Series, removeEmptyFamily: boolean): void {
    const family = series.family;
    family.series.delete(series);
    family.index.delete(series.key);
    this.byLastSeen.delete(series);
    this.seriesCount--;
    for (const [name, value] of Object.entries(series.labels)) {
      const values = family.labelValues.get(name)!;
      const remaining = values.get(value)! - 1;
      if (remaining > 0) values.set(value, remaining);
      else values.delete(value);
      if (values.size === 0) family.labelValues.delete(name);
    }
    if (removeEmptyFamily && family.series.size === 0) this.removeFamily(family);
  }

  private sanitisedName(name: string): string {
    return cached(this.metricNames, name, sanitiseMetricName);
  }

  private unitConversionOf(unit: string | undefined): UnitConversion {
    return unit === undefined ? NO_UNIT : cached(this.unitConversions, unit, unitConversion);
  }

  /** Tag keys in order of their label names; cached by the tag-key list (the cache is cleared when it fills). */
  private labelPlanOf(tagKeys: string[]): LabelPlan {
    if (tagKeys.length === 0) return { names: [], keys: [], namesKey: '' };
    return cached(this.labelPlans, tagKeys.join('\u0000'), () => {
      const byLabel = new Map<string, string>();
      for (const tagKey of [...tagKeys].sort()) {
        const label = sanitiseLabelName(tagKey);
        if (!byLabel.has(label)) byLabel.set(label, tagKey);
      }
      const names = [...byLabel.keys()].sort();
      return { names, keys: names.map((name) => byLabel.get(name)!), namesKey: names.join('\u0000') };
    });
  }
}
