import type { HistogramData } from '../ingest-log/item-schema.js';

/** The values one histogram point is sent as, at most (a Datadog distribution point's values). */
export const MAX_HISTOGRAM_VALUES = 10_000;

/** Bucket `index`'s edges, the open ends closed at the nearest bound. */
function edges(histogram: HistogramData, index: number): [number, number] {
  const { bounds } = histogram;
  const lower = index === 0 ? bounds[0] ?? 0 : bounds[index - 1]!;
  const upper = index >= bounds.length ? bounds[bounds.length - 1] ?? lower : bounds[index]!;
  return [lower, upper];
}

/**
 * The histogram as raw values for a destination that takes only values (Datadog distribution
 * points): each bucket's count as that many values at the middle of its edges (the open first and
 * last buckets at their one bound). Buckets are all a histogram keeps, so quantiles are those of the
 * buckets. Over MAX_HISTOGRAM_VALUES observations, each bucket's count is scaled down to fit
 * (rounded, at least 1 for a bucket that had any): the shape is kept, the count is not.
 */
export function representativeValues(histogram: HistogramData): number[] {
  const scale = histogram.count > MAX_HISTOGRAM_VALUES ? MAX_HISTOGRAM_VALUES / histogram.count : 1;
  const values: number[] = [];
  histogram.counts.forEach((count, index) => {
    if (count <= 0) return;
    const [lower, upper] = edges(histogram, index);
    const times = scale === 1 ? count : Math.max(1, Math.round(count * scale));
    for (let repeat = 0; repeat < times && values.length < MAX_HISTOGRAM_VALUES; repeat++) values.push((lower + upper) / 2);
  });
  return values;
}

/** The smallest and largest observation: the point's own, else the edges of its outermost non-empty buckets. */
export function histogramRange(histogram: HistogramData): { min: number; max: number } {
  const first = histogram.counts.findIndex((count) => count > 0);
  const last = histogram.counts.findLastIndex((count) => count > 0);
  return {
    min: histogram.min ?? (first < 0 ? 0 : edges(histogram, first)[0]),
    max: histogram.max ?? (last < 0 ? 0 : edges(histogram, last)[1]),
  };
}
