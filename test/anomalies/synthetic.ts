/** Seeded synthetic series for the detector tests (5-minute points, UTC). */
import { SeededRandom } from '../../src/anomalies/detection/rng.js';

export const STEP_MS = 5 * 60_000;
export const T0 = Date.UTC(2024, 0, 1);
export const POINTS_PER_DAY = 288;

export interface SyntheticOptions {
  n: number;
  seed: number;
  level?: number;
  sigma?: number;
  /** Amplitude of a daily sine (0 = none). */
  daily?: number;
  /** Optional per-point modification (index, clean value, noise draw) -> value. */
  modify?: (i: number, value: number, noise: number) => number;
}

export function synthetic(o: SyntheticOptions): { times: number[]; values: number[]; labels: string[] } {
  const rng = new SeededRandom(o.seed);
  const times: number[] = [];
  const values: number[] = [];
  const labels: string[] = [];
  const level = o.level ?? 100;
  const sigma = o.sigma ?? 1;
  for (let i = 0; i < o.n; i++) {
    const t = T0 + i * STEP_MS;
    const noise = rng.nextGaussian();
    const base = level + (o.daily ?? 0) * Math.sin((2 * Math.PI * (i % POINTS_PER_DAY)) / POINTS_PER_DAY);
    const v = o.modify ? o.modify(i, base, noise) : base + sigma * noise;
    times.push(t);
    values.push(v);
    labels.push(new Date(t).toISOString());
  }
  return { times, values, labels };
}
