/**
 * Report counters of one series, exact over every point it was given (Welford's running mean
 * and sum of squared deviations, mergeable across the series of one metric name).
 * `processed`: every point seen; `modelled`: the points the detector learnt from (in time
 * order; a point older than the series' last point is counted but ignored by the model).
 */
export interface SeriesCounters {
  processed: number;
  modelled: number;
  mean: number;
  m2: number;
  min: number | null;
  max: number | null;
  anomalies: number;
}

export function emptyCounters(): SeriesCounters {
  return { processed: 0, modelled: 0, mean: 0, m2: 0, min: null, max: null, anomalies: 0 };
}

export function countPoint(counters: SeriesCounters, value: number): void {
  counters.processed++;
  const delta = value - counters.mean;
  counters.mean += delta / counters.processed;
  counters.m2 += delta * (value - counters.mean);
  if (counters.min === null || value < counters.min) counters.min = value;
  if (counters.max === null || value > counters.max) counters.max = value;
}

/** Adds `other` into `total` (Chan et al. parallel merge of mean and m2). */
export function mergeCounters(total: SeriesCounters, other: SeriesCounters): void {
  if (other.processed > 0) {
    const count = total.processed + other.processed;
    const delta = other.mean - total.mean;
    total.mean += (delta * other.processed) / count;
    total.m2 += other.m2 + (delta * delta * total.processed * other.processed) / count;
    total.processed = count;
    if (other.min !== null && (total.min === null || other.min < total.min)) total.min = other.min;
    if (other.max !== null && (total.max === null || other.max > total.max)) total.max = other.max;
  }
  total.modelled += other.modelled;
  total.anomalies += other.anomalies;
}

/** Population standard deviation. */
export function standardDeviation(counters: SeriesCounters): number {
  return counters.processed > 0 ? Math.sqrt(Math.max(0, counters.m2 / counters.processed)) : 0;
}
