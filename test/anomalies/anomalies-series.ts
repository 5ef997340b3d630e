/** The synthetic series the anomalies e2e tests ingest (seeded; changes injected at known points). */
import type { Point } from './anomalies-http.js';
import { synthetic } from './synthetic.js';

export const CHANGE = 3000;
export const SEASONAL_BREAK = 2880;

interface SeriesSpec {
  name: string;
  tags?: Record<string, string>;
  data: { times: number[]; values: number[] };
}

export function syntheticSeries(): SeriesSpec[] {
  return [
    { name: 'test.spike', tags: { host: 'a' }, data: synthetic({ n: 4000, seed: 11, modify: (i, b, e) => b + e + (i === CHANGE ? 15 : 0) }) },
    { name: 'test.shift', data: synthetic({ n: 4000, seed: 12, modify: (i, b, e) => b + e + (i >= CHANGE ? 8 : 0) }) },
    { name: 'test.variance', data: synthetic({ n: 4000, seed: 13, modify: (i, b, e) => b + e * (i >= CHANGE ? 5 : 1) }) },
    {
      name: 'test.seasonal',
      data: synthetic({ n: 4032, seed: 14, daily: 20, modify: (i, b, e) => (i >= SEASONAL_BREAK && i < SEASONAL_BREAK + 288 ? 100 + e : b + e) }),
    },
  ];
}

export function pointsOf(series: SeriesSpec[], from = 0, to = Infinity): Point[] {
  return series.flatMap((spec) =>
    spec.data.values.slice(from, Math.min(to, spec.data.values.length)).map((value, offset) => ({
      name: spec.name,
      tags: spec.tags,
      value,
      timestamp: spec.data.times[from + offset]!,
    })),
  );
}

