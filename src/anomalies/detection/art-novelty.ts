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
 *  Steps 1 to 3 are the front end (art-novelty-front.ts), which members differing only in vigilance
 *  share: the companions compute them once with the member (shareFrontEnd).
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
import { FrontEvent, NoveltyFrontEnd, type FrontEndState } from './art-novelty-front.js';

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

/** The front end's fields (FrontEndState: seen, block, average, low, high, trained, trainingLevels, recentLevels, window, steps), then the member's. */
export interface NoveltyMemberState extends FrontEndState {
  lastNovel: number;
  vigilance: number;
  /**
   * Category weights, 2 x 2 x window integers (0..1000) each, concatenated: two base-64 digits a weight
   * (encodeWeights), or, in older snapshots, the integers themselves.
   */
  categories: string | number[];
  lastUsed: number[];
}

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

export class NoveltyMember {
  /** Steps 1 to 3 (art-novelty-front.ts): this member's own, or shared with members that differ only in vigilance. */
  private front: NoveltyFrontEnd;
  /** Points this member has observed (its front end's `seen` once it has observed the current point). */
  private consumed = 0;
  private lastNovel = -1e9;
  private vigilance: number;
  private readonly width: number;
  /** Empty until training ends (allocateCategories): a member in training holds no category arrays. */
  private weights = new Int16Array(0);
  /** Per category, the sum of its weights (derived: rebuilt on restore). */
  private sizes = new Int32Array(0);
  private lastUsed = new Float64Array(0);
  private count = 0;
  /** The category that learnt last (derived, not stored: -1 after a restore), tried first by present(). */
  private hint = -1;

  constructor(private readonly tuning: NoveltyTuning) {
    this.vigilance = tuning.initialVigilance;
    this.width = 4 * tuning.window;
    this.front = new NoveltyFrontEnd(tuning);
  }

  /**
   * Shares `leader`'s front end from now on when this member's would always equal it (the same front
   * tuning, the same state). Contract: members that share a front end observe the same points, each
   * once a point, in any order. Returns whether it shares.
   */
  shareFrontEnd(leader: NoveltyMember): boolean {
    if (leader.front === this.front) return true;
    if (!leader.front.sameTuning(this.tuning) || this.consumed !== leader.consumed || leader.consumed !== leader.front.seen) return false;
    if (JSON.stringify(this.front.snapshot()) !== JSON.stringify(leader.front.snapshot())) return false;
    this.front = leader.front;
    return true;
  }

  /** Adds a value; returns the novelty (1 - similarity, > 0) of a reported novel window, else 0. */
  observe(value: number): number {
    const front = this.front;
    if (this.consumed === front.seen) front.step(value);
    else if (this.consumed !== front.seen - 1) throw new Error('a novelty member sharing a front end skipped a point');
    this.consumed++;
    const event = front.event;
    if (event === FrontEvent.None) return 0;
    if (event === FrontEvent.Trained) {
      this.finishTraining(front.finishedLevels);
      return 0;
    }
    const similarity = this.present(front.features);
    if (similarity >= this.vigilance) return 0;
    const reported = front.steps - this.lastNovel > this.tuning.maskSteps;
    this.lastNovel = front.steps;
    return reported ? Math.max(1e-6, 1 - similarity) : 0;
  }

  /**
   * Best similarity of features `x` to a category, and learns (resonance or a new category). The
   * category that learnt last is tried first (consecutive windows share all but one level, so it is
   * often the best): the others then need a higher bound to be looked at. The result is the original
   * scan's: the highest similarity, at the lowest category among equal ones (a tie with the hint is
   * decided by the index), and none when all are 0.
   */
  private present(x: Int16Array): number {
    const { width } = this;
    const w = this.weights;
    const half = width >> 1;
    const current = half - 1;
    const currentFeature = x[current]!;
    const currentComplement = x[width - 1]!;
    const hint = this.hint < this.count ? this.hint : -1;
    let best = -1;
    let bestSimilarity = 0;
    if (hint >= 0) {
      const similarity = this.similarityTo(x, hint);
      if (similarity > 0) {
        best = hint;
        bestSimilarity = similarity;
      }
    }
    for (let category = 0; category < this.count; category++) {
      if (category === hint) continue;
      const base = category * width;
      // The level's match bounds the similarity (the features' match is at most 1): skip what cannot win.
      const currentWeight = w[base + current]!;
      const complementWeight = w[base + width - 1]!;
      const levelWeight = currentWeight + complementWeight;
      const levelOverlap = Math.min(currentFeature, currentWeight) + Math.min(currentComplement, complementWeight);
      const levelSimilarity = levelWeight > 0 ? levelOverlap / levelWeight : 1;
      const bound = levelSimilarity * levelSimilarity;
      if (bound < bestSimilarity || (bound === bestSimilarity && category > best)) continue;
      const similarity = this.featureSimilarity(x, category) ** 3 * bound;
      if (similarity > bestSimilarity || (similarity === bestSimilarity && category < best)) {
        bestSimilarity = similarity;
        best = category;
      }
    }
    const steps = this.front.steps;
    const sizes = this.sizes;
    if (best >= 0 && bestSimilarity >= this.vigilance) {
      const base = best * width;
      let size = sizes[best]!;
      for (let i = 0; i < width; i++) {
        const feature = x[i]!;
        const weight = w[base + i]!;
        if (feature < weight) {
          w[base + i] = feature;
          size -= weight - feature;
        }
      }
      sizes[best] = size;
      this.lastUsed[best] = steps;
      this.hint = best;
    } else {
      let slot = this.count;
      if (slot >= this.tuning.maxCategories) {
        slot = 0;
        for (let category = 1; category < this.count; category++) if (this.lastUsed[category]! < this.lastUsed[slot]!) slot = category;
      } else {
        this.count++;
      }
      w.set(x, slot * width);
      sizes[slot] = sizeOf(x, 0, width);
      this.lastUsed[slot] = steps;
      this.hint = slot;
    }
    return bestSimilarity;
  }

  /** The similarity of features `x` to `category` (as present() computes it). */
  private similarityTo(x: Int16Array, category: number): number {
    const width = this.width;
    const w = this.weights;
    const base = category * width;
    const current = (width >> 1) - 1;
    const levelWeight = w[base + current]! + w[base + width - 1]!;
    const levelOverlap = Math.min(x[current]!, w[base + current]!) + Math.min(x[width - 1]!, w[base + width - 1]!);
    const levelSimilarity = levelWeight > 0 ? levelOverlap / levelWeight : 1;
    const bound = levelSimilarity * levelSimilarity;
    return this.featureSimilarity(x, category) ** 3 * bound;
  }

  /** |min(x, w)| / |w| of `category`'s weights w. */
  private featureSimilarity(x: Int16Array, category: number): number {
    const width = this.width;
    const w = this.weights;
    const base = category * width;
    let overlap = 0;
    for (let i = 0; i < width; i++) {
      // min(feature, weight) without a branch (unpredictable here): both are integers within 16 bits.
      const difference = x[i]! - w[base + i]!;
      overlap += w[base + i]! + (difference & (difference >> 31));
    }
    return overlap / (this.sizes[category]! || 1);
  }

  /** The category arrays at their full size (once, when training ends or a member with categories is restored). */
  private allocateCategories(): void {
    if (this.lastUsed.length > 0) return;
    this.weights = new Int16Array(this.tuning.maxCategories * this.width);
    this.sizes = new Int32Array(this.tuning.maxCategories);
    this.lastUsed = new Float64Array(this.tuning.maxCategories);
  }

  /**
   * Ends training on the training `levels`: sets the vigilance from the training windows, then learns
   * them at that vigilance. The first replay depends on the levels, initialVigilance and maxCategories
   * only: members sharing the front end compute it once (front.replayMean).
   */
  private finishTraining(levels: readonly number[]): void {
    const T = this.tuning;
    const front = this.front;
    this.allocateCategories();
    const replay = (measure: boolean): number[] => {
      const similarities: number[] = [];
      this.count = 0;
      for (let end = T.window; end <= levels.length; end++) {
        front.encode(levels, end - T.window);
        const similarity = this.present(front.features);
        if (measure) similarities.push(similarity);
      }
      return similarities;
    };
    const shared = front.replayMean;
    let mean: number;
    if (shared && shared.initialVigilance === T.initialVigilance && shared.maxCategories === T.maxCategories) {
      mean = shared.mean;
    } else {
      this.vigilance = T.initialVigilance;
      const similarities = replay(true);
      const second = similarities.slice(similarities.length >> 1);
      mean = second.length > 0 ? second.reduce((sum, value) => sum + value, 0) / second.length : T.initialVigilance;
      front.replayMean = { initialVigilance: T.initialVigilance, maxCategories: T.maxCategories, mean };
    }
    this.vigilance = Math.min(0.97, mean) * T.vigilanceScale;
    replay(false);
  }

  snapshot(): NoveltyMemberState {
    return {
      ...this.front.snapshot(),
      lastNovel: this.lastNovel,
      vigilance: this.vigilance,
      categories: encodeWeights(this.weights.subarray(0, this.count * this.width)),
      lastUsed: Array.from(this.lastUsed.subarray(0, this.count)),
    };
  }

  static restore(tuning: NoveltyTuning, state: NoveltyMemberState | undefined): NoveltyMember {
    const member = new NoveltyMember(tuning);
    if (!state) return member;
    member.front = NoveltyFrontEnd.restore(tuning, state);
    member.consumed = state.seen;
    member.lastNovel = state.lastNovel;
    member.vigilance = state.vigilance;
    const categories = typeof state.categories === 'string' ? decodeWeights(state.categories) : state.categories;
    member.count = Math.min(tuning.maxCategories, Math.floor(categories.length / member.width), state.lastUsed.length);
    if (state.trained || member.count > 0) member.allocateCategories();
    member.weights.set(categories.slice(0, member.count * member.width));
    for (let category = 0; category < member.count; category++) member.sizes[category] = sizeOf(member.weights, category * member.width, member.width);
    member.lastUsed.set(state.lastUsed.slice(0, member.count));
    return member;
  }
}

/** The sum of `width` weights from `start`. */
function sizeOf(weights: Int16Array, start: number, width: number): number {
  let size = 0;
  for (let i = 0; i < width; i++) size += weights[start + i]!;
  return size;
}
