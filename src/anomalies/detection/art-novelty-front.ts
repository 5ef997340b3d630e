import type { NoveltyTuning } from './art-novelty.js';

/**
 * The front end of a novelty member (art-novelty.ts): steps 1 to 3 of its algorithm, which depend on
 * the values and on the tuning's step, window, trainPoints, levels, margin and chomp only (not on the
 * vigilance): downsampling, levels, the window and its complement-coded features. Members whose tunings
 * differ only in their vigilances see the same front end state at every point, so they share one
 * (NoveltyMember.shareFrontEnd): it is stepped once a point, by whichever member observes first.
 *
 * Typed arrays, no allocation a point (the block, the 64 recent levels and the window are rings or
 * fixed arrays, stored as the arrays the member's snapshot always held).
 */
export const UNIT = 1000;
export const MEDIAN_LEVELS = 64;

/** What the last step() did. */
export const enum FrontEvent {
  /** Nothing for the categories: within a block, in training, or the window not yet full. */
  None = 0,
  /** Training just ended: `finishedLevels` holds the training levels (until the next step). */
  Trained = 1,
  /** A full window after training: `features` holds its features (until the next step). */
  Window = 2,
}

/** The front end's part of NoveltyMemberState. */
export interface FrontEndState {
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
}

export class NoveltyFrontEnd {
  seen = 0;
  /** The current block; one more slot than `step` (a restored block may already hold `step` values). */
  private readonly block: Float64Array;
  private blockLength = 0;
  private average: number | null = null;
  private low = Infinity;
  private high = -Infinity;
  trained = false;
  private trainingLevels: number[] = [];
  /** The last MEDIAN_LEVELS levels, a ring (doubles: a restored state's numbers are kept as they are). */
  private readonly recent = new Float64Array(MEDIAN_LEVELS);
  private recentHead = 0;
  private recentCount = 0;
  /** The last `window` levels, oldest first. */
  private readonly window: Float64Array;
  private windowLength = 0;
  steps = 0;
  event: FrontEvent = FrontEvent.None;
  finishedLevels: number[] = [];
  /** The mean best similarity of the first training replay (art-novelty.ts), for the members that share this front end. */
  replayMean: { initialVigilance: number; maxCategories: number; mean: number } | null = null;
  readonly features: Int16Array;
  /** How many of the recent levels have each level (derived: rebuilt on restore), for their median. */
  private readonly levelCounts: Int32Array;
  /** Scratch for encode(). */
  private readonly shape: Float64Array;
  private readonly next: Float64Array;

  constructor(readonly tuning: NoveltyTuning) {
    this.block = new Float64Array(tuning.step + 1);
    this.window = new Float64Array(tuning.window);
    this.features = new Int16Array(4 * tuning.window);
    this.levelCounts = new Int32Array(tuning.levels + 1);
    this.shape = new Float64Array(tuning.window);
    this.next = new Float64Array(tuning.window);
  }

  /** Whether `other` computes the same front end as this one (the tuning fields it uses). */
  sameTuning(other: NoveltyTuning): boolean {
    const T = this.tuning;
    return T.step === other.step && T.window === other.window && T.trainPoints === other.trainPoints && T.levels === other.levels && T.margin === other.margin && T.chomp === other.chomp;
  }

  /** Adds a value; sets and returns `event`. */
  step(value: number): FrontEvent {
    const T = this.tuning;
    this.seen++;
    this.replayMean = null;
    if (this.finishedLevels.length > 0) this.finishedLevels = [];
    if (!this.trained) {
      if (value < this.low) this.low = value;
      if (value > this.high) this.high = value;
    }
    this.block[this.blockLength++] = value;
    if (this.blockLength < T.step) return (this.event = FrontEvent.None);
    const level = this.levelOfBlock();
    this.blockLength = 0;
    if (!this.trained) {
      this.trainingLevels.push(this.pushLevel(level));
      if (this.seen < T.trainPoints) return (this.event = FrontEvent.None);
      this.trained = true;
      this.finishedLevels = this.trainingLevels;
      this.trainingLevels = [];
      return (this.event = FrontEvent.Trained);
    }
    this.pushLevel(level);
    if (this.windowLength < T.window) return (this.event = FrontEvent.None);
    this.encode(this.window, 0);
    return (this.event = FrontEvent.Window);
  }

  /** The block's representative value, as a level 0..levels of the training range. */
  private levelOfBlock(): number {
    const T = this.tuning;
    let sum = 0;
    let max = -Infinity;
    let min = Infinity;
    const length = this.blockLength;
    const block = this.block;
    for (let i = 0; i < length; i++) {
      const value = block[i]!;
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
    const counts = this.levelCounts;
    if (this.recentCount === MEDIAN_LEVELS) {
      counts[this.recent[this.recentHead]!]!--;
      this.recent[this.recentHead] = raw;
      this.recentHead = this.recentHead + 1 === MEDIAN_LEVELS ? 0 : this.recentHead + 1;
    } else {
      this.recent[(this.recentHead + this.recentCount) % MEDIAN_LEVELS] = raw;
      this.recentCount++;
    }
    counts[raw]!++;
    // The median: the level at position length / 2 (rounded down) in sorted order.
    const position = this.recentCount >> 1;
    let median = 0;
    for (let below = counts[0]!; below <= position; below += counts[median]!) median++;
    const level = Math.abs(raw - median) < T.chomp * T.levels ? median : raw;
    const window = this.window;
    if (this.windowLength < window.length) {
      window[this.windowLength++] = level;
    } else {
      for (let i = 1; i < window.length; i++) window[i - 1] = window[i]!;
      window[window.length - 1] = level;
    }
    this.steps++;
    return level;
  }

  /** The complement-coded features of levels[start .. start + window) into `features` (integers 0..UNIT). */
  encode(levels: ArrayLike<number>, start: number): void {
    const T = this.tuning;
    const n = T.window;
    const shape = this.shape;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < n; i++) {
      const level = levels[start + i]!;
      if (level < min) min = level;
      if (level > max) max = level;
    }
    for (let i = 0; i < n; i++) shape[i] = max > min ? (levels[start + i]! - min) / (max - min) : 0;
    // Haar transform in place: averages first, details after, level by level.
    const next = this.next;
    for (let length = n; length > 1; length >>= 1) {
      const half = length >> 1;
      for (let i = 0; i < half; i++) {
        next[i] = (shape[2 * i]! + shape[2 * i + 1]!) / 2;
        next[half + i] = (shape[2 * i]! - shape[2 * i + 1]!) / 2;
      }
      for (let i = 0; i < length; i++) shape[i] = next[i]!;
    }
    let low = Infinity;
    let high = -Infinity;
    for (let i = 0; i < n; i++) {
      const coefficient = shape[i]!;
      if (coefficient < low) low = coefficient;
      if (coefficient > high) high = coefficient;
    }
    const half = 2 * n;
    const features = this.features;
    for (let i = 0; i < n; i++) {
      const scaled = Math.round((high > low ? (shape[i]! - low) / (high - low) : 0) * UNIT);
      const position = Math.round((levels[start + i]! / T.levels) * UNIT);
      features[i] = scaled;
      features[n + i] = position;
      features[half + i] = UNIT - scaled;
      features[half + n + i] = UNIT - position;
    }
  }

  snapshot(): FrontEndState {
    const recentLevels = new Array<number>(this.recentCount);
    for (let i = 0; i < this.recentCount; i++) recentLevels[i] = this.recent[(this.recentHead + i) % MEDIAN_LEVELS]!;
    return {
      seen: this.seen,
      block: Array.from(this.block.subarray(0, this.blockLength)),
      average: this.average,
      low: Number.isFinite(this.low) ? this.low : null,
      high: Number.isFinite(this.high) ? this.high : null,
      trained: this.trained,
      trainingLevels: this.trainingLevels.slice(),
      recentLevels,
      window: Array.from(this.window.subarray(0, this.windowLength)),
      steps: this.steps,
    };
  }

  static restore(tuning: NoveltyTuning, state: FrontEndState): NoveltyFrontEnd {
    const front = new NoveltyFrontEnd(tuning);
    front.seen = state.seen;
    const block = state.block.slice(0, tuning.step);
    front.block.set(block);
    front.blockLength = block.length;
    front.average = state.average;
    front.low = state.low ?? Infinity;
    front.high = state.high ?? -Infinity;
    front.trained = state.trained;
    front.trainingLevels = state.trainingLevels.slice();
    const recent = state.recentLevels.slice(-MEDIAN_LEVELS);
    front.recent.set(recent);
    front.recentCount = recent.length;
    for (const level of recent) front.levelCounts[level]!++;
    const window = state.window.slice(-tuning.window);
    front.window.set(window);
    front.windowLength = window.length;
    front.steps = state.steps;
    return front;
  }
}
