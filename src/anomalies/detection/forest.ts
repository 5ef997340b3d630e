import { IsolationForest, type IsolationTreeNode } from 'ml-isolation-forest';
import { SeededRandom } from './rng.js';

/**
 * Trees per forest. 32 trees x 256 rows: training ~5-10 ms, scoring ~1 µs, ~6k nodes (~75 KB of
 * typed arrays per series, not part of the snapshot).
 */
export const FOREST_TREES = 32;

/** Average path length of an unsuccessful BST search, c(n), exactly as ml-isolation-forest computes it. */
export function averagePathLength(n: number): number {
  if (n === 0 || n === 1) return 0;
  if (n === 2) return 1;
  return 2 * Math.log(n - 1) + 0.57721 - (2 * (n - 1)) / n;
}

/**
 * An isolation forest trained with ml-isolation-forest (seeded: Math.random is swapped for a
 * mulberry32 generator for the duration of train(), so a given sample + seed always yields the
 * same trees), then flattened into typed arrays so that scoring a point costs ~1 µs instead of
 * walking the library's object graph. score() returns exactly what the library's predict()
 * returns for the same trees (checked in test/anomalies/forest.test.ts).
 *
 * The model is NOT put in snapshots (tens of thousands of nodes); snapshots keep the training
 * sample and seed, and restore re-trains deterministically to the identical forest.
 */
export class FlatForest {
  /**
   * Entry t: the least path length trees t.. can still add, the sum of each one's shortest
   * leaf. Lets scoreIfAbove stop as soon as no remaining trees could bring a point back
   * above the threshold (about 15 % fewer trees walked per ordinary point).
   */
  private readonly leastRemaining: Float64Array;

  private constructor(
    private readonly col: Int8Array, // feature index, -1 = leaf
    private readonly split: Float64Array, // split value, or for leaves depth + c(leaf size)
    private readonly left: Int32Array, // left child; the right child is left + 1
    private readonly roots: Int32Array,
    private readonly norm: number, // c(training size)
    /** Training scores, sorted ascending (used to calibrate the threshold). */
    readonly trainingScores: Float64Array,
  ) {
    this.leastRemaining = new Float64Array(roots.length + 1);
    for (let t = roots.length - 1; t >= 0; t--) {
      let shortest = Infinity;
      const pending = [roots[t]];
      while (pending.length > 0) {
        const node = pending.pop()!;
        if (col[node] < 0) shortest = Math.min(shortest, split[node]);
        else pending.push(left[node], left[node] + 1);
      }
      this.leastRemaining[t] = this.leastRemaining[t + 1] + shortest;
    }
  }

  static train(sample: number[][], seed: number, trees = FOREST_TREES): { forest: FlatForest; library: IsolationForest } {
    const rng = new SeededRandom(seed);
    const lib = new IsolationForest({ nEstimators: trees });
    const saved = Math.random;
    Math.random = () => rng.next();
    try {
      lib.train(sample);
    } finally {
      Math.random = saved;
    }
    // Children of a node are allocated next to each other (right = left + 1), so a node is
    // (col, split, left): 13 bytes.
    const col: number[] = [];
    const split: number[] = [];
    const left: number[] = [];
    const roots: number[] = [];
    const alloc = (): number => {
      col.push(-1);
      split.push(0);
      left.push(-1);
      return col.length - 1;
    };
    const fill = (node: IsolationTreeNode, id: number, depth: number): void => {
      if (node.left === undefined || node.right === undefined) {
        // leaf: store depth + c(size) so scoring just reads it
        split[id] = depth + averagePathLength(node.trainingSet ? node.trainingSet.length : 0);
        return;
      }
      col[id] = node.splitColumn as number;
      split[id] = node.splitValue as number;
      const l = alloc();
      alloc();
      left[id] = l;
      fill(node.left, l, depth + 1);
      fill(node.right, l + 1, depth + 1);
    };
    for (let t = 0; t < trees; t++) {
      const root = alloc();
      roots.push(root);
      fill(lib.forest[t], root, 0);
    }
    const f = new FlatForest(
      Int8Array.from(col),
      Float64Array.from(split),
      Int32Array.from(left),
      Int32Array.from(roots),
      averagePathLength(sample.length),
      new Float64Array(0),
    );
    const scores = Float64Array.from(sample.map((row) => f.score(row))).sort();
    const calibrated = new FlatForest(f.col, f.split, f.left, f.roots, f.norm, scores);
    return { forest: calibrated, library: lib };
  }

  /** Isolation-forest anomaly score in (0, 1]; ~0.5 is ordinary, -> 1 is isolated. */
  score(row: ArrayLike<number>): number {
    return this.scoreOfTotal(this.pathTotal(row, Infinity));
  }

  /**
   * score(row) when it exceeds `threshold`, else null; the same verdict as
   * `score(row) > threshold`, for less work on ordinary points. Every tree adds a
   * non-negative path length, so once the running total passes the total at which
   * the score falls to the threshold, the remaining trees cannot bring it back.
   */
  scoreIfAbove(row: ArrayLike<number>, threshold: number): number | null {
    if (threshold >= 1) return null;
    // Margin of 1e-9 relative: a point is cut short only when clearly below the threshold.
    const cutoff = -this.roots.length * this.norm * Math.log2(threshold) * (1 + 1e-9);
    const total = this.pathTotal(row, cutoff);
    if (total > cutoff) return null;
    const score = this.scoreOfTotal(total);
    return score > threshold ? score : null;
  }

  /**
   * Sum over the trees of the row's path length; stops, with a total past `cutoff`, as soon as
   * the total plus the least the remaining trees can add exceeds it.
   */
  private pathTotal(row: ArrayLike<number>, cutoff: number): number {
    const { col, split, left, roots, leastRemaining } = this;
    let total = 0;
    for (let t = 0; t < roots.length; t++) {
      if (total + leastRemaining[t] > cutoff) return total + leastRemaining[t];
      let i = roots[t];
      let c = col[i];
      while (c >= 0) {
        // Right is left + 1: adding the comparison's negation, rather than choosing between two
        // loads, made scoring ~10 % faster (micro-benchmark); the same child for every value, NaN included.
        i = left[i] + +!(row[c] < split[i]);
        c = col[i];
      }
      total += split[i];
    }
    return total;
  }

  private scoreOfTotal(total: number): number {
    return 2 ** (-(total / this.roots.length) / this.norm);
  }

  /** Empirical quantile q in [0,1] of the training scores. */
  trainingQuantile(q: number): number {
    const s = this.trainingScores;
    if (s.length === 0) return 1;
    const pos = Math.min(s.length - 1, Math.max(0, q * (s.length - 1)));
    const lo = Math.floor(pos);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (pos - lo);
  }

  /** Fraction of training scores strictly below f (0..1). */
  ecdf(f: number): number {
    const s = this.trainingScores;
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (s[mid] < f) lo = mid + 1;
      else hi = mid;
    }
    return s.length ? lo / s.length : 0;
  }

  get nodeCount(): number {
    return this.col.length;
  }
}
