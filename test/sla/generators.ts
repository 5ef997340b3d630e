import { normal, seededRandom } from '../support/random.js';

export { seededRandom };

export type Distribution = (random: () => number) => number;

/** Latency distributions in milliseconds, heavy tails included. */
export const DISTRIBUTIONS: Record<string, Distribution> = {
  uniform: (random) => 5 + random() * 995,
  exponential: (random) => -Math.log(1 - random()) * 40,
  lognormal: (random) => Math.exp(Math.log(80) + 1.2 * normal(random)),
  pareto: (random) => 2 / Math.pow(1 - random(), 1 / 1.3),
  bimodal: (random) => (random() < 0.9 ? 3 + random() * 4 : 300 + random() * 2000),
};

/** The exact quantile DDSketch approximates: the element at rank floor(q·(n−1)). */
export function exactQuantile(values: readonly number[], quantile: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(quantile * (sorted.length - 1))]!;
}

export function relativeError(estimate: number, exact: number): number {
  return Math.abs(estimate - exact) / exact;
}
