import type { HistogramData } from '../../ingest-log/ingest-log.items.js';
import { child, doubleField, has, int64Field, intField, OtlpShapeError } from './otlp.values.js';

type Node = Record<string, unknown>;

/** Bucket bounds one histogram point may carry (OTel's exponential default is 160 a side). */
export const MAX_HISTOGRAM_BOUNDS = 400;


function int64List(node: Node, field: string): number[] {
  const value = node[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpShapeError(`${field} must be an array`);
  if (value.length > MAX_HISTOGRAM_BOUNDS + 1) throw new OtlpShapeError(`${field} must have at most ${MAX_HISTOGRAM_BOUNDS + 1} buckets`);
  return value.map((element) => Number(int64Field({ element }, 'element')));
}

function doubleList(node: Node, field: string): number[] {
  const value = node[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpShapeError(`${field} must be an array`);
  if (value.length > MAX_HISTOGRAM_BOUNDS) throw new OtlpShapeError(`${field} must have at most ${MAX_HISTOGRAM_BOUNDS} bounds`);
  return value.map((element) => doubleField({ element }, 'element'));
}

function withMinMax(values: HistogramData, point: Node): HistogramData {
  if (has(point, 'min')) values.min = doubleField(point, 'min');
  if (has(point, 'max')) values.max = doubleField(point, 'max');
  return values;
}

/** A HistogramDataPoint's values; throws OtlpShapeError for bounds and counts that do not match. */
export function explicitHistogram(point: Node): HistogramData {
  const bounds = doubleList(point, 'explicitBounds');
  let counts = int64List(point, 'bucketCounts');
  const count = Number(int64Field(point, 'count'));
  // No bucket counts: the point carries only its count and sum, one bucket holds them all.
  if (counts.length === 0) counts = [...bounds.map(() => 0), count];
  if (counts.length !== bounds.length + 1) throw new OtlpShapeError('a histogram point must have one more bucket count than bounds');
  for (let index = 1; index < bounds.length; index++) {
    if (!(bounds[index]! > bounds[index - 1]!)) throw new OtlpShapeError('histogram bounds must be finite and ascending');
  }
  if (bounds.some((bound) => !Number.isFinite(bound))) throw new OtlpShapeError('histogram bounds must be finite and ascending');
  return withMinMax({ count, sum: has(point, 'sum') ? doubleField(point, 'sum') : 0, bounds, counts }, point);
}

/**
 * An ExponentialHistogramDataPoint as explicit buckets: bucket `i` of scale `s` covers
 * (base^i, base^(i+1)] with base = 2^(2^-s) (negatives mirrored), the zero bucket
 * [−zeroThreshold, zeroThreshold]. The bounds are those bucket edges, so no count moves.
 */
export function exponentialHistogram(point: Node): HistogramData {
  const scale = intField(point, 'scale');
  if (scale < -10 || scale > 20) throw new OtlpShapeError('an exponential histogram scale must be from -10 to 20');
  const base = 2 ** (2 ** -scale);
  const zeroThreshold = Math.abs(doubleField(point, 'zeroThreshold'));
  const positive = child(point, 'positive') ?? {};
  const negative = child(point, 'negative') ?? {};
  const positiveCounts = int64List(positive, 'bucketCounts');
  const negativeCounts = int64List(negative, 'bucketCounts');
  const positiveOffset = intField(positive, 'offset');
  const negativeOffset = intField(negative, 'offset');
  if (positiveCounts.length + negativeCounts.length + 1 > MAX_HISTOGRAM_BOUNDS) throw new OtlpShapeError(`an exponential histogram must have at most ${MAX_HISTOGRAM_BOUNDS} buckets`);
  const bounds: number[] = [];
  const counts: number[] = [];
  // Negative buckets from the most negative: bucket i covers [−base^(i+1), −base^i); its upper edge is −base^i.
  for (let index = negativeCounts.length - 1; index >= 0; index--) {
    bounds.push(-(base ** (negativeOffset + index)));
    counts.push(negativeCounts[index]!);
  }
  bounds.push(zeroThreshold);
  counts.push(Number(int64Field(point, 'zeroCount')));
  for (let index = 0; index < positiveCounts.length; index++) {
    bounds.push(base ** (positiveOffset + index + 1));
    counts.push(positiveCounts[index]!);
  }
  counts.push(0);
  for (let index = 1; index < bounds.length; index++) {
    if (!(bounds[index]! > bounds[index - 1]!) || !Number.isFinite(bounds[index]!)) throw new OtlpShapeError('an exponential histogram has buckets past the range of a double');
  }
  return withMinMax({ count: Number(int64Field(point, 'count')), sum: has(point, 'sum') ? doubleField(point, 'sum') : 0, bounds, counts }, point);
}
