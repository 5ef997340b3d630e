import { TupleMap } from '../../common/tuple-map.js';
import type { MetricType } from '../../ingest-log/ingest-log.items.js';
import { HISTOGRAM_BUCKETS, type UnitConversion } from './metric-naming.js';

/** The Prometheus family and series that ReexposedMetrics (reexposed-metrics.ts) keeps for each re-exposed metric. */

const PROMETHEUS_TYPE: Record<MetricType, 'gauge' | 'counter' | 'histogram'> = {
  gauge: 'gauge',
  count: 'counter',
  distribution: 'histogram',
  histogram: 'histogram',
};
/** Item types rendered as Prometheus histograms: distributions (one value a point) and histograms (their buckets). */
export const isHistogram = (type: MetricType) => type === 'distribution' || type === 'histogram';

export interface Series {
  family: Family;
  /** Its key in Family.index: its label plan's names, then its label values in that order. */
  key: string[];
  labels: Record<string, string>;
  /** Clock time of the last point, for the TTL. */
  lastSeen: number;
  /** Gauge: the value of the newest point; counter: the running total. */
  value: number;
  /** Gauge: item timestamp of `value`, so a late point never overwrites a newer one. */
  valueTimestamp: number;
  /** Histogram: per-bucket (non-cumulative) counts, the last slot being +Inf. */
  bucketCounts?: Float64Array;
  sum: number;
  count: number;
}

const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;

interface SampleValue {
  labels: Readonly<Record<string, string | number>>;
  sharedLabels?: Record<string, string>;
  value: number;
  metricName?: string;
}

/**
 * One re-exposed metric family. Registered on the process registry as a duck-typed prom-client metric
 * (the registry reads name, help, type and get()), so its samples are rendered with Vigil's own.
 */
export class Family {
  readonly series = new Set<Series>();
  /** Each series by its key (Series.key). */
  readonly index = new TupleMap<Series>();
  /** label name → value → number of live series carrying it; bounds label cardinality. */
  readonly labelValues = new Map<string, Map<string, number>>();
  readonly aggregator = 'sum';
  readonly buckets: readonly number[];
  private readonly bucketLabels: ReadonlyArray<{ le: number | string }>;
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;

  constructor(
    readonly key: string,
    readonly itemType: MetricType,
    readonly unit: UnitConversion,
    readonly name: string,
    readonly help: string,
    private readonly store: { oldestLiveTime(): number },
    /** A histogram family's bounds: those of its first point, in base units. */
    bounds: readonly number[] = [],
  ) {
    this.buckets = itemType === 'distribution' ? HISTOGRAM_BUCKETS[unit.unitClass] : bounds;
    this.bucketLabels = [...this.buckets.map((bound) => ({ le: bound })), { le: '+Inf' }];
    this.bucketName = `${name}_bucket`;
    this.sumName = `${name}_sum`;
    this.countName = `${name}_count`;
  }

  get type(): 'gauge' | 'counter' | 'histogram' {
    return PROMETHEUS_TYPE[this.itemType];
  }

  /** The names this family's samples use, so no other family may render under them. */
  sampleNames(): string[] {
    return isHistogram(this.itemType) ? [this.name, `${this.name}_bucket`, `${this.name}_sum`, `${this.name}_count`] : [this.name];
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: SampleValue[] }> {
    const values: SampleValue[] = [];
    const oldestLive = this.store.oldestLiveTime();
    for (const series of this.series) {
      if (series.lastSeen < oldestLive) continue;
      // sharedLabels: the registry formats a label object once and caches the text by identity, so a series'
      // labels are escaped once in its life rather than once per line per scrape.
      if (!series.bucketCounts) {
        values.push({ labels: NO_LABELS, sharedLabels: series.labels, value: series.value });
        continue;
      }
      let cumulative = 0;
      for (let index = 0; index < series.bucketCounts.length; index++) {
        cumulative += series.bucketCounts[index]!;
        values.push({ metricName: this.bucketName, labels: this.bucketLabels[index]!, sharedLabels: series.labels, value: cumulative });
      }
      values.push({ metricName: this.sumName, labels: NO_LABELS, sharedLabels: series.labels, value: series.sum });
      values.push({ metricName: this.countName, labels: NO_LABELS, sharedLabels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client's registry.resetMetrics() calls this; re-exposed state is the posters', so it is kept. */
  reset(): void {}
}
