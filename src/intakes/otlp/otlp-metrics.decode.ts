import type { CumulativePoint } from './cumulative-sums.js';
import type { HistogramData } from '../../ingest-log/ingest-log.items.js';
import { exponentialHistogram, explicitHistogram } from './otlp-histograms.decode.js';
import { DecodedExport } from './otlp.batch.js';
import { pointTags, resourceTags } from './otlp.tags.js';
import { boolField, child, doubleField, has, int64Field, intField, list, millisField, nanosToMillis, OtlpShapeError, stringField } from './otlp.values.js';

type Node = Record<string, unknown>;

/** AggregationTemporality values. */
const DELTA = 1;
const CUMULATIVE = 2;
/** DataPointFlags.FLAG_NO_RECORDED_VALUE: the point stands for a gap and holds no value. */
const NO_RECORDED_VALUE = 1;

/** A monotonic cumulative point and the count item its delta will fill. */
export interface PendingCumulative {
  point: CumulativePoint;
  item: Record<string, unknown>;
}

/** A decoded metrics export: items ready for ingest, and cumulative points still to convert. */
export class DecodedMetrics extends DecodedExport {
  readonly cumulative: PendingCumulative[] = [];
  /** Data points without a recorded value (skipped, not refused). */
  gaps = 0;
}

/**
 * ExportMetricsServiceRequest → metric items. Each data point's tags are the resource's and
 * scope's allow-listed attributes and the point's own (otlp.tags.ts); `unit` is the metric's.
 * - Gauge points → `gauge` items;
 * - Sum points: monotonic DELTA → `count` items; monotonic CUMULATIVE → deltas per series
 *   (CumulativeSums) → `count` items; non-monotonic → `gauge` items (the current value);
 * - Histogram and ExponentialHistogram points → `histogram` items (explicit bounds; exponential
 *   buckets become their edges), cumulative ones as deltas; Summary points are refused.
 */
export function decodeMetrics(request: Node): DecodedMetrics {
  const decoded = new DecodedMetrics();
  for (const resourceMetrics of list(request, 'resourceMetrics')) {
    const resource = resourceTags(child(resourceMetrics, 'resource'), 'resource');
    for (const scopeMetrics of list(resourceMetrics, 'scopeMetrics')) {
      const base = resourceTags(child(scopeMetrics, 'scope'), 'scope', { ...resource });
      for (const metric of list(scopeMetrics, 'metrics')) {
        try {
          decodeMetric(decoded, base, metric);
        } catch (error) {
          if (!(error instanceof OtlpShapeError)) throw error;
          decoded.reject(`metric "${String(metric['name']).slice(0, 100)}": ${error.message}`);
        }
      }
    }
  }
  return decoded;
}

function decodeMetric(decoded: DecodedMetrics, base: Readonly<Record<string, string>>, metric: Node): void {
  const name = stringField(metric, 'name');
  const unit = stringField(metric, 'unit');
  const gauge = child(metric, 'gauge');
  if (gauge !== undefined) return numberPoints(decoded, base, name, unit, list(gauge, 'dataPoints'), 'gauge');
  const sum = child(metric, 'sum');
  if (sum !== undefined) {
    const points = list(sum, 'dataPoints');
    if (!boolField(sum, 'isMonotonic')) return numberPoints(decoded, base, name, unit, points, 'gauge');
    const temporality = intField(sum, 'aggregationTemporality');
    if (temporality === DELTA) return numberPoints(decoded, base, name, unit, points, 'count');
    if (temporality === CUMULATIVE) return numberPoints(decoded, base, name, unit, points, 'cumulative');
    return decoded.reject(`metric "${name}": a sum without an aggregation temporality`, points.length);
  }
  for (const [field, read] of [['histogram', explicitHistogram], ['exponentialHistogram', exponentialHistogram]] as const) {
    const data = child(metric, field);
    if (data === undefined) continue;
    const temporality = intField(data, 'aggregationTemporality');
    if (temporality !== DELTA && temporality !== CUMULATIVE) return decoded.reject(`metric "${name}": a histogram without an aggregation temporality`, list(data, 'dataPoints').length);
    return histogramPoints(decoded, base, name, unit, list(data, 'dataPoints'), read, temporality === CUMULATIVE);
  }
  const summary = child(metric, 'summary');
  if (summary !== undefined) return decoded.reject(`metric "${name}": summary points are not supported`, list(summary, 'dataPoints').length);
  decoded.reject(`metric "${name}" has no data`, 0);
}

/**
 * Histogram points → `histogram` items (`value` is the sum; `histogram` the count, sum, bounds and
 * bucket counts); cumulative ones through CumulativeSums as [count, sum, ...bucket counts], whose
 * deltas carry no min and max (those of a whole run say nothing of one interval).
 */
function histogramPoints(
  decoded: DecodedMetrics,
  base: Readonly<Record<string, string>>,
  name: string,
  unit: string,
  points: readonly Node[],
  read: (point: Node) => HistogramData,
  cumulative: boolean,
): void {
  for (const point of points) {
    if ((intField(point, 'flags') & NO_RECORDED_VALUE) !== 0) {
      decoded.gaps++;
      continue;
    }
    let values: HistogramData;
    try {
      values = read(point);
    } catch (error) {
      if (!(error instanceof OtlpShapeError)) throw error;
      decoded.reject(`metric "${name}": ${error.message}`);
      continue;
    }
    const tags = pointTags(base, point);
    const timeNanos = int64Field(point, 'timeUnixNano');
    const item: Record<string, unknown> = { name, value: values.sum, type: 'histogram', timestamp: nanosToMillis(timeNanos), tags, histogram: values };
    if (unit.length > 0) item['unit'] = unit;
    if (!cumulative) {
      decoded.items.push(item);
      continue;
    }
    const series = `${name}\u0000${unit}\u0000${JSON.stringify(tags)}\u0000histogram`;
    const startNanos = int64Field(point, 'startTimeUnixNano');
    decoded.cumulative.push({ point: { series, startNanos, timeNanos, values: [values.count, values.sum, ...values.counts], bounds: values.bounds }, item });
  }
}

/** The item a cumulative point's delta fills: a count, or a histogram of the interval. */
export function deltaItem(item: Record<string, unknown>, delta: readonly number[]): Record<string, unknown> | undefined {
  if (item['type'] !== 'histogram') return { ...item, value: delta[0] };
  // Nothing observed in the interval: no histogram to add.
  if (delta[0] === 0) return undefined;
  const { bounds } = item['histogram'] as HistogramData;
  // Items carry what validation will check: counts that add up, not a rounding residue of a re-bucketing.
  if (delta.slice(2).some((count) => count < 0)) return undefined;
  return { ...item, value: delta[1], histogram: { count: delta[0], sum: delta[1], bounds, counts: delta.slice(2) } };
}

function numberPoints(
  decoded: DecodedMetrics,
  base: Readonly<Record<string, string>>,
  name: string,
  unit: string,
  points: readonly Node[],
  as: 'gauge' | 'count' | 'cumulative',
): void {
  for (const point of points) {
    if ((intField(point, 'flags') & NO_RECORDED_VALUE) !== 0) {
      decoded.gaps++;
      continue;
    }
    const value = has(point, 'asDouble') ? doubleField(point, 'asDouble') : has(point, 'asInt') ? Number(int64Field(point, 'asInt')) : undefined;
    if (value === undefined) {
      decoded.reject(`metric "${name}": a data point without a value`);
      continue;
    }
    const tags = pointTags(base, point);
    const item: Record<string, unknown> = { name, value, type: as === 'cumulative' ? 'count' : as, timestamp: millisField(point, 'timeUnixNano'), tags };
    if (unit.length > 0) item['unit'] = unit;
    if (as !== 'cumulative') {
      decoded.items.push(item);
      continue;
    }
    const series = `${name}\u0000${unit}\u0000${JSON.stringify(tags)}`;
    decoded.cumulative.push({ point: { series, startNanos: int64Field(point, 'startTimeUnixNano'), timeNanos: int64Field(point, 'timeUnixNano'), values: [value] }, item });
  }
}
