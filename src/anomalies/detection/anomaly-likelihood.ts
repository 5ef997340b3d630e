import { normalTail } from './stats.js';

/**
 * Anomaly likelihood (the post-processing of Numenta's HTM detector, Ahmad et al. 2017, written here
 * from its description): raw scores in [0, 1] are kept as integers in 1/RESOLUTION steps; their mean
 * over the last `shortWindow` points is compared with the distribution (mean, variance) of that mean
 * over the last `longWindow` points. The tail probability of the current short mean under that
 * Gaussian (standard deviation floored at `minSigma`) is how unlikely the recent raw scores are.
 *
 * Integer scores keep every sum exact, so a restored likelihood continues bit for bit. Bounded state:
 * shortWindow + longWindow integers and four sums.
 */
export const RESOLUTION = 1000;

export interface LikelihoodTuning {
  shortWindow: number;
  longWindow: number;
  minSigma: number;
  /** Tail probabilities are reported once this many short means are in the long window. */
  minHistory: number;
}

export interface AnomalyLikelihoodState {
  short: number[];
  long: number[];
}

class IntegerRing {
  readonly values: Int32Array;
  head = 0;
  size = 0;
  sum = 0;
  squares = 0;

  constructor(readonly capacity: number) {
    this.values = new Int32Array(capacity);
  }

  push(value: number): void {
    if (this.size === this.capacity) {
      const old = this.values[this.head]!;
      this.sum -= old;
      this.squares -= old * old;
      this.values[this.head] = value;
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.values[(this.head + this.size) % this.capacity] = value;
      this.size++;
    }
    this.sum += value;
    this.squares += value * value;
  }

  toArray(): number[] {
    const out = new Array<number>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.values[(this.head + i) % this.capacity]!;
    return out;
  }
}

export class AnomalyLikelihood {
  private readonly short: IntegerRing;
  private readonly long: IntegerRing;

  constructor(private readonly tuning: LikelihoodTuning) {
    this.short = new IntegerRing(tuning.shortWindow);
    this.long = new IntegerRing(tuning.longWindow);
  }

  /**
   * Adds a raw score (0..1) and returns the tail probability of the new short-window mean under the
   * distribution of the earlier ones (1 while the history is shorter than minHistory).
   */
  observe(raw: number): number {
    const score = Math.round(Math.min(1, Math.max(0, raw)) * RESOLUTION);
    this.short.push(score);
    const shortSum = this.short.sum;
    let tail = 1;
    const long = this.long;
    if (long.size >= this.tuning.minHistory) {
      const scale = this.tuning.shortWindow * RESOLUTION;
      const mean = long.sum / long.size / scale;
      const variance = Math.max(0, long.squares / long.size / (scale * scale) - mean * mean);
      const sigma = Math.max(Math.sqrt(variance), this.tuning.minSigma);
      tail = normalTail((shortSum / (this.short.size * RESOLUTION) - mean) / sigma);
    }
    // Kept as the sum over a full short window (a partial one scaled up), so all entries compare alike.
    long.push(Math.round((shortSum * this.tuning.shortWindow) / this.short.size));
    return tail;
  }

  snapshot(): AnomalyLikelihoodState {
    return { short: this.short.toArray(), long: this.long.toArray() };
  }

  static restore(tuning: LikelihoodTuning, state: AnomalyLikelihoodState): AnomalyLikelihood {
    const likelihood = new AnomalyLikelihood(tuning);
    for (const value of state.short.slice(-tuning.shortWindow)) likelihood.short.push(value);
    for (const value of state.long.slice(-tuning.longWindow)) likelihood.long.push(value);
    return likelihood;
  }
}
