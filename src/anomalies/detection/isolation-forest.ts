import { IsolationForest } from 'ml-isolation-forest';
import { SeededRandom } from './rng.js';

/**
 * The isolation-forest member of the detector family (ml-isolation-forest, one of the project's fixed
 * libraries). It judges a point by how easily a forest trained on the recent feature vectors isolates
 * the point's own vector; the raw score (0..1, about 0.5 for a typical point) goes through an anomaly
 * likelihood in the detector like the deviation score.
 *
 * Features (windowed, per point, from the signed deviation score s in [-1, 1] that the baseline
 * gives): s, the mean s of the last 4 points, the mean s of the last 16, and s minus the previous s.
 * They are kept as integers in 1/FEATURE_RESOLUTION steps, so a stored vector is the exact vector.
 *
 * DETERMINISM: the forest is retrained on the last `sample` vectors whenever the points seen reach a
 * multiple of `retrainEvery` (never on a timer), by a new IsolationForest instance (train() on an old
 * one would keep scoring with its old trees), with Math.random swapped for a SeededRandom seeded by the
 * training's number during train() only (synchronous: nothing else runs meanwhile). A restore retrains
 * from the stored training set with the same seed, so it rebuilds the same trees.
 *
 * STATE BOUND: the training set and the ring of recent vectors (2 x sample x 4 integers), 16 recent
 * deviations, 2 counters. As stored JSON at most 2 x 256 x 4 x 6 characters, ~12.5 KB.
 */
export const FEATURE_RESOLUTION = 1000;
const FEATURES = 4;
const RECENT = 16;

export interface ForestTuning {
  /** Vectors in a training set (the last ones before a retraining). */
  sample: number;
  /** Retrain when the points seen reach a multiple of this (the first training at this count). */
  retrainEvery: number;
  /** Trees per forest. */
  trees: number;
  /** The sigma floor of the likelihood over the forest's scores (they vary less than deviation scores). */
  minSigma: number;
  /** Under the ensemble method the forest's tail counts divided by this (1: as strong as the deviation's). */
  ensembleFactor: number;
}

export interface ForestMemberState {
  /** The training set of the current forest, flattened (empty before the first training). */
  trained: number[];
  /** The last `sample` feature vectors, oldest first, flattened. */
  recent: number[];
  /** The last 16 signed deviations (integers), oldest first. */
  deviations: number[];
  trainings: number;
}

/** Trains a new forest on `rows` with Math.random swapped for a generator seeded by `trainings`. */
function trainForest(rows: number[][], trees: number, trainings: number): IsolationForest {
  const random = new SeededRandom(0x5eed ^ Math.imul(trainings + 1, 0x9e3779b1));
  const forest = new IsolationForest({ nEstimators: trees });
  const saved = Math.random;
  Math.random = () => random.next();
  try {
    forest.train(rows);
  } finally {
    Math.random = saved;
  }
  return forest;
}

export class ForestMember {
  private forest: IsolationForest | null = null;
  private trained: number[][] = [];
  private recent: number[][] = [];
  private deviations: number[] = [];
  private trainings = 0;
  private points = 0;

  constructor(private readonly tuning: ForestTuning) {}

  /** Feature vector of the point with signed deviation `signed`, then learnt. Returns the forest's score, or -1 before the first training. */
  observe(signed: number): number {
    const T = this.tuning;
    const s = Math.round(Math.max(-1, Math.min(1, signed)) * FEATURE_RESOLUTION);
    const deviations = this.deviations;
    const previous = deviations.length > 0 ? deviations[deviations.length - 1]! : s;
    deviations.push(s);
    if (deviations.length > RECENT) deviations.shift();
    let sum4 = 0;
    let sum16 = 0;
    for (let i = 0; i < deviations.length; i++) {
      sum16 += deviations[i]!;
      if (i >= deviations.length - 4) sum4 += deviations[i]!;
    }
    const vector = [s, Math.round(sum4 / Math.min(4, deviations.length)), Math.round(sum16 / deviations.length), s - previous];
    const score = this.forest ? this.forest.predict([vector])[0]! : -1;
    this.recent.push(vector);
    if (this.recent.length > T.sample) this.recent.shift();
    this.points++;
    if (this.points % T.retrainEvery === 0 && this.recent.length >= RECENT) {
      this.trained = this.recent.slice();
      this.forest = trainForest(this.trained, T.trees, this.trainings);
      this.trainings++;
    }
    return score;
  }

  snapshot(): ForestMemberState {
    return { trained: this.trained.flat(), recent: this.recent.flat(), deviations: this.deviations.slice(), trainings: this.trainings };
  }

  /** `points` is the detector's points seen (this member has seen every one of them). */
  static restore(tuning: ForestTuning, state: ForestMemberState | undefined, points: number): ForestMember {
    const member = new ForestMember(tuning);
    member.points = points;
    if (!state) return member;
    const rows = (flat: number[]) => Array.from({ length: Math.floor(flat.length / FEATURES) }, (_, i) => flat.slice(i * FEATURES, i * FEATURES + FEATURES));
    member.trained = rows(state.trained).slice(-tuning.sample);
    member.recent = rows(state.recent).slice(-tuning.sample);
    member.deviations = state.deviations.slice(-RECENT);
    member.trainings = state.trainings;
    if (member.trained.length > 0 && member.trainings > 0) member.forest = trainForest(member.trained, tuning.trees, member.trainings - 1);
    return member;
  }
}
