/**
 * Shape novelty by adaptive resonance (the idea of ARTime, Hampton 2021, and fuzzy ART, Carpenter,
 * Grossberg and Rosen 1991; written here from their descriptions, no code copied): recent windows of the
 * series are clustered into categories; a window that resonates with no category (similarity below the
 * vigilance) is novel. It catches changes of shape or level that a deviation score from a median misses
 * (a flat stretch, a new rhythm, a slow drift into a new range).
 *
 * PER POINT (causal, pure, integer state where it matters):
 *  1. Downsampling: every `step` points, the block's extreme farther from a running average (its mean
 *     when the extreme is within 10 % of the mean) stands for the block.
 *  2. Level: placed in the value range seen during training (the first `trainPoints` points, then
 *     frozen) with a margin of `margin` on each side, clipped to [0, 1], quantised to 1/levels, and
 *     snapped to the median of the last 64 levels when within `chomp` of it (noise around the usual
 *     level is not novelty).
 *  3. Features of the last `window` levels: the Haar transform of the window scaled to [0, 1] (its
 *     shape), then the levels themselves (its position); complement-coded; integers in 1/1000 steps.
 *  4. Fuzzy ART: similarity to a category = (|min(x, w)| / |w|)^3 x (match of the current level)^2; the
 *     best category at or above the vigilance learns (w = min(w, x)); otherwise a new category is
 *     made (the least recently used is replaced beyond `maxCategories`). The vigilance is set once, at
 *     the end of training: the mean best similarity over the second half of the training windows
 *     (clustered at `initialVigilance`) times `vigilanceScale`.
 *  5. A novel window is reported (observe() returns 1 - similarity) unless another novel window came
 *     within `maskSteps` downsampled steps before it (one report per novel stretch); otherwise 0.
 *
 * STATE BOUND: maxCategories x 4 x window integers (at most 4 digits) + maxCategories last-use counters,
 * the training levels (trainPoints / step), the 64 recent levels, the window, a block of `step` values
 * and 8 scalars. With the shipped tuning (64 categories, 8-window): 2,048 + 64 integers; the weights are
 * stored as two base-64 digits each (4,096 characters at most), so at most ~6.5 KB as stored JSON
 * (~13 KB when they were stored as a JSON array of integers, as snapshots before the third session of
 * issue 23 hold them: still restored); ~6 KB of typed arrays in memory once trained (a member in training holds no category arrays).
 */
export interface NoveltyTuning {
  step: number;
  window: number;
  trainPoints: number;
  levels: number;
  margin: number;
  chomp: number;
  maxCategories: number;
  initialVigilance: number;
  vigilanceScale: number;
  maskSteps: number;
}

export interface NoveltyMemberState {
  seen: number;
  block: number[];
  average: number | null;
  low: number | null;
  high: number | null;
  trained: boolean;
  /** Levels (integers 0..levels, after snapping) during training; emptied when training ends. */
  trainingLevels: number[];
  recentLevels: number[];
  window: number[];
  steps: number;
  lastNovel: number;
  vigilance: number;
  /**
   * Category weights, 2 x 2 x window integers (0..1000) each, concatenated: two base-64 digits a weight
   * (encodeWeights), or, in older snapshots, the integers themselves.
   */
  categories: string | number[];
  lastUsed: number[];
}

const UNIT = 1000;
/** The digits of the stored weights (UNIT < 64 x 64: two digits a weight). */
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Weights 0..4095 as two base-64 digits each (a JSON array takes up to 5 characters a weight). */
export function encodeWeights(weights: ArrayLike<number>): string {
  let text = '';
  for (let i = 0; i < weights.length; i++) text += DIGITS[weights[i]! >> 6]! + DIGITS[weights[i]! & 63]!;
  return text;
}

/** The inverse of encodeWeights; a digit outside the alphabet reads as 0. */
export function decodeWeights(text: string): number[] {
  const weights = new Array<number>(text.length >> 1);
  for (let i = 0; i < weights.length; i++) weights[i] = (Math.max(0, DIGITS.indexOf(text[2 * i]!)) << 6) | Math.max(0, DIGITS.indexOf(text[2 * i + 1]!));
  return weights;
}
const MEDIAN_LEVELS = 64;

export class NoveltyMember {
  private seen = 0;
  private block: number[] = [];
  private average: number | null = null;
  private low = Infinity;
  private high = -Infinity;
  private trained = false;
  private trainingLevels: number[] = [];
  private recentLevels: number[] = [];
  private window: number[] = [];
  private steps = 0;
  private lastNovel = -1e9;
  private vigilance: number;
  private readonly width: number;
  /** Empty until training ends (allocateCategories): a member in training holds no category arrays. */
  private weights = new Int16Array(0);
  private lastUsed = new Float64Array(0);
  private count = 0;
  private readonly features: Int16Array;
  /** How many of recentLevels have each level (derived: rebuilt on restore), for their median. */
  private readonly levelCounts: Int32Array;
  /** Scratch for encode(). */
  private readonly shape: Float64Array;
  private readonly next: Float64Array;

  constructor(private readonly tuning: NoveltyTuning) {
    this.vigilance = tuning.initialVigilance;
    this.width = 4 * tuning.window;
    this.features = new Int16Array(this.width);
    this.levelCounts = new Int32Array(tuning.levels + 1);
    this.shape = new Float64Array(tuning.window);
    this.next = new Float64Array(tuning.window);
  }

  /** Adds a value; returns the novelty (1 - similarity, > 0) of a reported novel window, else 0. */
  observe(value: number): number {
    const T = this.tuning;
    this.seen++;
    if (!this.trained) {
      if (value < this.low) this.low = value;
      if (value > this.high) this.high = value;
    }
    this.block.push(value);
    if (this.block.length < T.step) return 0;
    const level = this.levelOfBlock();
    this.block = [];
    if (!this.trained) {
      this.trainingLevels.push(this.pushLevel(level));
      if (this.seen >= T.trainPoints) this.finishTraining();
      return 0;
    }
    this.pushLevel(level);
    if (this.window.length < T.window) return 0;
    this.encode();
    const similarity = this.present(true);
    if (similarity >= this.vigilance) return 0;
    const reported = this.steps - this.lastNovel > T.maskSteps;
    this.lastNovel = this.steps;
    return reported ? Math.max(1e-6, 1 - similarity) : 0;
  }

  /** The block's representative value, as a level 0..levels of the training range. */
  private levelOfBlock(): number {
    const T = this.tuning;
    let sum = 0;
    let max = -Infinity;
    let min = Infinity;
    const length = this.block.length;
    for (const value of this.block) {
      sum += value / length; // divided first: no overflow near the largest doubles
      if (value > max) max = value;
      if (value < min) min = value;
    }
    const mean = sum;
    this.average = this.average === null ? mean : (this.average + mean) / 2;
    let representative = Math.abs(max - this.average) < Math.abs(min - this.average) ? min : max;
    if (Math.abs(representative - mean) < 0.1 * Math.abs(mean)) representative = mean;
    const range = this.high - this.low || 1;
    const placed = T.margin + ((1 - 2 * T.margin) * (representative - this.low)) / range;
    // NaN only from an infinite range (values near the largest doubles): placed in the middle.
    return Math.round((Number.isNaN(placed) ? 0.5 : Math.min(1, Math.max(0, placed))) * T.levels);
  }

  /** Snaps a level to the recent median when close, appends it to the window, returns it. */
  private pushLevel(raw: number): number {
    const T = this.tuning;
    this.recentLevels.push(raw);
    this.levelCounts[raw]!++;
    if (this.recentLevels.length > MEDIAN_LEVELS) this.levelCounts[this.recentLevels.shift()!]!--;
    // The median: the level at position length / 2 (rounded down) in sorted order.
    const position = this.recentLevels.length >> 1;
    let median = 0;
    for (let below = this.levelCounts[0]!; below <= position; below += this.levelCounts[median]!) median++;
    const level = Math.abs(raw - median) < T.chomp * T.levels ? median : raw;
    this.window.push(level);
    if (this.window.length > T.window) this.window.shift();
    this.steps++;
    return level;
  }

  /** The complement-coded features of the current window into this.features (integers 0..UNIT). */
  private encode(): void {
    const T = this.tuning;
    const n = T.window;
    const shape = this.shape;
    let min = Infinity;
    let max = -Infinity;
    for (const level of this.window) {
      if (level < min) min = level;
      if (level > max) max = level;
    }
    for (let i = 0; i < n; i++) shape[i] = max > min ? (this.window[i]! - min) / (max - min) : 0;
    // Haar transform in place: averages first, details after, level by level.
    for (let length = n; length > 1; length >>= 1) {
      const half = length >> 1;
      const next = this.next;
      for (let i = 0; i < half; i++) {
        next[i] = (shape[2 * i]! + shape[2 * i + 1]!) / 2;
        next[half + i] = (shape[2 * i]! - shape[2 * i + 1]!) / 2;
      }
      for (let i = 0; i < length; i++) shape[i] = next[i]!;
    }
    let low = Infinity;
    let high = -Infinity;
    for (const coefficient of shape) {
      if (coefficient < low) low = coefficient;
      if (coefficient > high) high = coefficient;
    }
    const half = 2 * n;
    for (let i = 0; i < n; i++) {
      const scaled = Math.round((high > low ? (shape[i]! - low) / (high - low) : 0) * UNIT);
      const position = Math.round((this.window[i]! / T.levels) * UNIT);
      this.features[i] = scaled;
      this.features[n + i] = position;
      this.features[half + i] = UNIT - scaled;
      this.features[half + n + i] = UNIT - position;
    }
  }

  /** Best similarity of this.features to a category; learns when `learn` (resonance or a new category). */
  private present(learn: boolean): number {
    const { width } = this;
    const x = this.features;
    const w = this.weights;
    const half = width >> 1;
    const current = half - 1;
    let best = -1;
    let bestSimilarity = 0;
    for (let category = 0; category < this.count; category++) {
      const base = category * width;
      // The level's match bounds the similarity (the features' match is at most 1): skip what cannot win.
      const levelWeight = w[base + current]! + w[base + width - 1]!;
      const levelOverlap = Math.min(x[current]!, w[base + current]!) + Math.min(x[width - 1]!, w[base + width - 1]!);
      const levelSimilarity = levelWeight > 0 ? levelOverlap / levelWeight : 1;
      const bound = levelSimilarity * levelSimilarity;
      if (bound <= bestSimilarity) continue;
      let overlap = 0;
      let size = 0;
      for (let i = 0; i < width; i++) {
        const weight = w[base + i]!;
        overlap += x[i]! < weight ? x[i]! : weight;
        size += weight;
      }
      const featureSimilarity = overlap / (size || 1);
      const similarity = featureSimilarity ** 3 * bound;
      if (similarity > bestSimilarity) {
        bestSimilarity = similarity;
        best = category;
      }
    }
    if (!learn) return bestSimilarity;
    if (best >= 0 && bestSimilarity >= this.vigilance) {
      const base = best * width;
      for (let i = 0; i < width; i++) if (x[i]! < w[base + i]!) w[base + i] = x[i]!;
      this.lastUsed[best] = this.steps;
    } else {
      let slot = this.count;
      if (slot >= this.tuning.maxCategories) {
        slot = 0;
        for (let category = 1; category < this.count; category++) if (this.lastUsed[category]! < this.lastUsed[slot]!) slot = category;
      } else {
        this.count++;
      }
      w.set(x, slot * width);
      this.lastUsed[slot] = this.steps;
    }
    return bestSimilarity;
  }

  /** The category arrays at their full size (once, when training ends or a member with categories is restored). */
  private allocateCategories(): void {
    if (this.lastUsed.length > 0) return;
    this.weights = new Int16Array(this.tuning.maxCategories * this.width);
    this.lastUsed = new Float64Array(this.tuning.maxCategories);
  }

  /** Ends training: sets the vigilance from the training windows, then learns them at that vigilance. */
  private finishTraining(): void {
    const T = this.tuning;
    this.trained = true;
    this.allocateCategories();
    const levels = this.trainingLevels;
    this.trainingLevels = [];
    const replay = (measure: boolean): number[] => {
      const similarities: number[] = [];
      this.count = 0;
      this.window = [];
      for (let i = 0; i < levels.length; i++) {
        this.window.push(levels[i]!);
        if (this.window.length > T.window) this.window.shift();
        if (this.window.length < T.window) continue;
        this.encode();
        similarities.push(this.present(true));
      }
      return measure ? similarities : [];
    };
    // Replayed on the training levels; the window is restored afterwards.
    const snapped = this.window.slice();
    this.vigilance = T.initialVigilance;
    const similarities = replay(true);
    const second = similarities.slice(similarities.length >> 1);
    const mean = second.length > 0 ? second.reduce((sum, value) => sum + value, 0) / second.length : T.initialVigilance;
    this.vigilance = Math.min(0.97, mean) * T.vigilanceScale;
    replay(false);
    this.window = snapped;
  }

  snapshot(): NoveltyMemberState {
    return {
      seen: this.seen,
      block: this.block.slice(),
      average: this.average,
      low: Number.isFinite(this.low) ? this.low : null,
      high: Number.isFinite(this.high) ? this.high : null,
      trained: this.trained,
      trainingLevels: this.trainingLevels.slice(),
      recentLevels: this.recentLevels.slice(),
      window: this.window.slice(),
      steps: this.steps,
      lastNovel: this.lastNovel,
      vigilance: this.vigilance,
      categories: encodeWeights(this.weights.subarray(0, this.count * this.width)),
      lastUsed: Array.from(this.lastUsed.subarray(0, this.count)),
    };
  }

  static restore(tuning: NoveltyTuning, state: NoveltyMemberState | undefined): NoveltyMember {
    const member = new NoveltyMember(tuning);
    if (!state) return member;
    member.seen = state.seen;
    member.block = state.block.slice(0, tuning.step);
    member.average = state.average;
    member.low = state.low ?? Infinity;
    member.high = state.high ?? -Infinity;
    member.trained = state.trained;
    member.trainingLevels = state.trainingLevels.slice();
    member.recentLevels = state.recentLevels.slice(-MEDIAN_LEVELS);
    for (const level of member.recentLevels) member.levelCounts[level]!++;
    member.window = state.window.slice(-tuning.window);
    member.steps = state.steps;
    member.lastNovel = state.lastNovel;
    member.vigilance = state.vigilance;
    const categories = typeof state.categories === 'string' ? decodeWeights(state.categories) : state.categories;
    member.count = Math.min(tuning.maxCategories, Math.floor(categories.length / member.width), state.lastUsed.length);
    if (member.trained || member.count > 0) member.allocateCategories();
    member.weights.set(categories.slice(0, member.count * member.width));
    member.lastUsed.set(state.lastUsed.slice(0, member.count));
    return member;
  }
}
