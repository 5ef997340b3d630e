/**
 * Vigil streaming anomaly detector - one `SeriesDetector` per metric series.
 *
 * Pure TypeScript: no NestJS, no I/O, no clock, only seeded randomness (the forest's training). Every input is a point; every
 * adaptation happens inside observe(), so the verdicts depend on the points alone (never on when or
 * how they were batched), and a snapshot restores a detector that continues bit for bit.
 *
 * ALGORITHM (per point, causal: a point is judged only on state built from earlier points)
 *  1. Robust baseline (baseline.ts): median of the last 128 values, or a daily (hour-of-day, UTC)
 *     profile plus the median of the de-seasonalised values when that predicts better; robust
 *     z = |x - expected| / (1.4826 MAD); deviation score d = z / (z + z0).
 *  2. Anomaly likelihood (anomaly-likelihood.ts, the post-processing of Numenta's HTM detector): two
 *     tails, each under a Gaussian fitted to the last 1000 points: of the mean deviation score of the
 *     last 16 points (a sustained change) and of the point's own score (a spike; it must be 100 times
 *     less probable). tail = the smaller.
 *  2b. Under the 'ensemble' and 'isolation_forest' methods (isolation-forest.ts): an isolation
 *     forest scores windowed features of the signed deviation score, retrained at every 1,024 points on
 *     the last 256 vectors with seeded randomness; its score gets the same two likelihood channels
 *     (sigma floor 0.02). Ensemble: tail = min(deviation tail, forest tail / 0.001), i.e. the forest
 *     alone fires only when 1,000 times less probable than the threshold.
 *  2c. Under the 'novelty' method (the default; art-novelty.ts): an adaptive-resonance member clusters
 *     windows of 8 downsampled levels (every 4 points, placed in the range of the first 500 points) and
 *     reports a window no category resonates with, after 1,000 downsampled steps without one. A report
 *     whose novelty (1 - similarity) exceeds noveltyThreshold (low 0.45, medium 0.3, high 0.2) is an
 *     exceedance like a likelihood tail below epsilon; its verdict's score is at least 0.5 + novelty / 2.
 *     Companion members see the same values at other vigilances (scale + each companionScaleOffsets,
 *     0.8 + 0.08 and 0.8 - 0.04) and report on their own the same way: which windows a single vigilance
 *     calls novel shifts with the scale, together they find windows any one finds (BENCHMARKS.md,
 *     third session). While the members train (the first novelty.trainPoints points), a provisional member
 *     trained on the first provisionalTrainPoints (150) reports windows whose novelty exceeds the
 *     threshold by provisionalNoveltyMargin (it has seen little); it is dropped when they finish.
 *  3. A likelihood exceedance: tail < epsilon (low 1e-7, medium 1e-5, high 1e-4) at a point with
 *     z >= likelihoodMinZ (10), or at the end of a run of likelihoodRun.points (10) points each with
 *     z >= likelihoodRun.z (3.25): a tail crossing on a stretch of moderately unusual points, with no point
 *     far out, was a false alarm on most of NAB DEV (BENCHMARKS.md, fourth session). A point is
 *     anomalous on an exceedance (likelihood or novelty) past the warm-up (150 points), unless an
 *     exceedance happened within the last `suppressPoints` points (one incident, one anomaly: the
 *     suppression NAB's detectors apply after a detection).
 *  score = min(1, log10(tail) / (2 log10(epsilon.medium))) (medium fires at 0.5); severity from score.
 *
 * ORDERING: a point older than the last accepted one, or a non-finite value/timestamp, is ignored
 * (state unchanged, pointsSeen not incremented) and returned as not anomalous.
 *
 * STATE BOUND per series (independent of the points seen): 2 x 128 baseline values, the daily profile
 * (24 x 9 numbers), 2 x 1000 + 17 integer scores (at most 5 digits) of the likelihoods, 7 scalars:
 * ~2,500 numbers. As stored JSON at most ~32 KB (every value at full double precision); 17 KB at most
 * on the NAB DEV series. In memory ~13 KB of typed arrays. The novelty method adds at most ~6.5 KB per member as
 * stored (64 categories of 32 weights, two characters each; tested at its widest), three members: at
 * most ~52 KB in all (the provisional member lives only while the three train and hold no categories);
 * 29.5 KB at most on NAB DEV (the members' part at most 14.1 KB); ~17 KiB of heap a
 * series, ~22 KiB in its first 500 points (memory-budget.ts). The forest methods add the forest member
 * (2 x 256 x 4 + 16 integers of at most 5 characters, ~12.5 KB as JSON) and its two likelihoods (~10 KB):
 * at most ~55 KB as stored, 34 KB at most on NAB DEV; in memory also the forest (16 trees of at most
 * 511 nodes, which keep their training rows: ~100-200 KB; it is rebuilt from the stored sample on restore).
 */
import { AnomalyLikelihood, type AnomalyLikelihoodState, type LikelihoodTuning } from './anomaly-likelihood.js';
import { Baseline, type BaselineState } from './baseline.js';
import { NoveltyMember, type NoveltyMemberState, type NoveltyTuning } from './art-novelty.js';
import { ForestMember, type ForestMemberState, type ForestTuning } from './isolation-forest.js';

export type Sensitivity = 'low' | 'medium' | 'high';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/**
 * 'likelihood': the likelihood of the robust deviation score; 'isolation_forest': the likelihood of
 * the isolation forest's score; 'ensemble': the smaller of the two tails (the forest's divided by
 * forest.ensembleFactor); 'novelty' (the default): the likelihood, or a novel window of the adaptive
 * resonance member (art-novelty.ts), whichever comes first.
 */
export type DetectorMethod = 'likelihood' | 'isolation_forest' | 'ensemble' | 'novelty';
export const DETECTOR_METHODS: readonly DetectorMethod[] = ['likelihood', 'isolation_forest', 'ensemble', 'novelty'];
export const DEFAULT_METHOD: DetectorMethod = 'novelty';

export interface DetectorSettings {
  sensitivity: Sensitivity;
  /** DEFAULT_METHOD when absent. */
  method?: DetectorMethod;
}

export interface PointVerdict {
  anomalous: boolean;
  /** 0..1: log10(likelihood tail) / (2 log10(epsilon.medium)), capped at 1 (0.5 = the medium threshold). */
  score: number;
  /** Baseline value expected at this point. */
  expected: number;
  severity: Severity;
  /** Methods that contributed on this point: 'robust_zscore' | 'seasonal' | 'likelihood'. */
  methods: string[];
}

/** ONE parameter set for every series (tuned on the NAB DEV half only; see BENCHMARKS.md). */
export interface DetectorTuning {
  /** No verdict is anomalous before this many points. */
  warmupPoints: number;
  /** Deviation score = z / (z + z0). */
  z0: number;
  likelihood: LikelihoodTuning;
  /** No new anomaly within this many points of the previous exceedance (reported or not). */
  suppressPoints: number;
  /**
   * A likelihood tail below epsilon counts (is an exceedance) only at a point at least this many robust
   * sigmas (z) from its expected value, or at the end of a run of likelihoodRun.points points each at
   * least likelihoodRun.z sigmas away (a sustained shift). Either 0: every such tail counts.
   */
  likelihoodMinZ: number;
  likelihoodRun: { points: number; z: number };
  /** The single-point channel: its tail must be below epsilon times this. 0 turns it off. */
  spikeFactor: number;
  /** Likelihood tail threshold per sensitivity. */
  epsilon: Record<Sensitivity, number>;
  /** 'robust_zscore' is listed in methods when z >= zFire. */
  zFire: number;
  forest: ForestTuning;
  novelty: NoveltyTuning;
  /** The novelty member reports a window when 1 - similarity exceeds this, per sensitivity. */
  noveltyThreshold: Record<Sensitivity, number>;
  /** One companion novelty member at novelty.vigilanceScale + each of these (none: the member alone). */
  companionScaleOffsets: readonly number[];
  /**
   * The provisional novelty member's training points (0: none; at most novelty.trainPoints): it reports
   * novel windows only while the members are still in training, and is dropped when they finish.
   */
  provisionalTrainPoints: number;
  /** A provisional report counts when its novelty exceeds noveltyThreshold by this much (it has seen few points). */
  provisionalNoveltyMargin: number;
}

export const TUNING: Readonly<DetectorTuning> = {
  warmupPoints: 150,
  z0: 4,
  likelihood: { shortWindow: 16, longWindow: 1000, minSigma: 0.06, minHistory: 100 },
  suppressPoints: 100,
  likelihoodMinZ: 10,
  likelihoodRun: { points: 10, z: 3.25 },
  spikeFactor: 1e-2,
  epsilon: { low: 1e-7, medium: 1e-5, high: 1e-4 },
  zFire: 4,
  forest: { sample: 256, retrainEvery: 1024, trees: 16, minSigma: 0.02, ensembleFactor: 0.001 },
  novelty: {
    step: 4,
    window: 8,
    trainPoints: 500,
    levels: 80,
    margin: 0.25,
    chomp: 0.075,
    maxCategories: 64,
    initialVigilance: 0.8,
    vigilanceScale: 0.8,
    maskSteps: 1000,
  },
  noveltyThreshold: { low: 0.45, medium: 0.3, high: 0.2 },
  companionScaleOffsets: [0.08, -0.04],
  provisionalTrainPoints: 150,
  provisionalNoveltyMargin: 0.3,
};

export interface SeriesDetectorState {
  version: 2;
  n: number;
  lastTs: number;
  baseline: BaselineState;
  likelihood: AnomalyLikelihoodState;
  spike: AnomalyLikelihoodState;
  suppressUntil: number;
  /** Consecutive points, up to the last one, at least likelihoodRun.z sigmas away (absent in snapshots taken before it: 0). */
  deviantRun?: number;
  /** Absent under the likelihood method (and in snapshots taken before the forest came back). */
  forest?: { member: ForestMemberState; likelihood: AnomalyLikelihoodState; spike: AnomalyLikelihoodState };
  /** Present under the novelty method only (absent in snapshots taken before it: the member starts anew). */
  novelty?: NoveltyMemberState;
  /** The companion novelty members, in companionScaleOffsets' order (absent in snapshots taken before them: they start anew). */
  companions?: NoveltyMemberState[];
  /** The provisional novelty member, while the members are in training (absent after, and in snapshots taken before it: it starts anew). */
  provisional?: NoveltyMemberState;
}

/** The methods of a verdict that is not anomalous: shared, frozen (no array per point). */
const NO_METHODS: string[] = Object.freeze([]) as unknown as string[];

/** The companion novelty members' tunings: the member's, at their vigilance scales. */
function companionTunings(tuning: DetectorTuning): NoveltyTuning[] {
  return tuning.companionScaleOffsets.map((offset) => ({ ...tuning.novelty, vigilanceScale: tuning.novelty.vigilanceScale + offset }));
}

/** The provisional member's tuning: the member's, trained on the first provisionalTrainPoints points. */
function provisionalTuning(tuning: DetectorTuning): NoveltyTuning {
  return { ...tuning.novelty, trainPoints: tuning.provisionalTrainPoints };
}

/** Whether a detector of `tuning` that has seen `pointsSeen` points has a provisional member (the novelty method only). */
function hasProvisional(tuning: DetectorTuning, pointsSeen: number): boolean {
  return tuning.provisionalTrainPoints > 0 && tuning.provisionalTrainPoints < tuning.novelty.trainPoints && pointsSeen < tuning.novelty.trainPoints;
}

function forestLikelihood(tuning: DetectorTuning): LikelihoodTuning {
  return { ...tuning.likelihood, minSigma: tuning.forest.minSigma };
}

/** Severity from score: < 0.6 low, < 0.75 medium, < 0.9 high, else critical. */
export function severityOf(score: number): Severity {
  if (score >= 0.9) return 'critical';
  if (score >= 0.75) return 'high';
  if (score >= 0.6) return 'medium';
  return 'low';
}

export class SeriesDetector {
  private n = 0;
  private lastTs = -Infinity;
  private baseline = new Baseline();
  private likelihood: AnomalyLikelihood;
  private spike: AnomalyLikelihood;
  private suppressUntil = 0;
  private deviantRun = 0;
  private readonly method: DetectorMethod;
  /** The isolation-forest member and its two likelihood channels; null under the likelihood method. */
  private forest: { member: ForestMember; likelihood: AnomalyLikelihood; spike: AnomalyLikelihood } | null = null;
  /** The adaptive-resonance member; null except under the novelty method. */
  private novelty: NoveltyMember | null = null;
  /** The novelty members at the companion vigilances; empty except under the novelty method. */
  private companions: NoveltyMember[] = [];
  /** The provisional novelty member while the members are in training; null after, and except under the novelty method. */
  private provisional: NoveltyMember | null = null;

  private constructor(
    private readonly settings: DetectorSettings,
    private readonly tuning: DetectorTuning,
  ) {
    this.method = settings.method ?? DEFAULT_METHOD;
    this.likelihood = new AnomalyLikelihood(tuning.likelihood);
    this.spike = new AnomalyLikelihood({ ...tuning.likelihood, shortWindow: 1 });
    if (this.method === 'novelty') {
      this.novelty = new NoveltyMember(tuning.novelty);
      this.companions = companionTunings(tuning).map((companion) => new NoveltyMember(companion));
      for (const companion of this.companions) companion.shareFrontEnd(this.novelty);
      if (hasProvisional(tuning, 0)) this.provisional = new NoveltyMember(provisionalTuning(tuning));
    }
    if (this.method === 'isolation_forest' || this.method === 'ensemble') {
      this.forest = {
        member: new ForestMember(tuning.forest),
        likelihood: new AnomalyLikelihood(forestLikelihood(tuning)),
        spike: new AnomalyLikelihood({ ...forestLikelihood(tuning), shortWindow: 1 }),
      };
    }
  }

  /** `tuning` is for experiments only (bench/): the service always runs TUNING. */
  static create(settings: DetectorSettings, tuning: DetectorTuning = TUNING): SeriesDetector {
    return new SeriesDetector(settings, tuning);
  }

  get pointsSeen(): number {
    return this.n;
  }

  /** Past its warm-up: its verdicts may be anomalous (the report's "models trained"). */
  get ready(): boolean {
    return this.n >= this.tuning.warmupPoints;
  }

  observe(timestampMs: number, value: number): PointVerdict {
    const T = this.tuning;
    if (!(timestampMs >= this.lastTs) || !Number.isFinite(value) || !Number.isFinite(timestampMs)) {
      return { anomalous: false, score: 0, expected: this.baseline.expect(timestampMs), severity: 'low', methods: NO_METHODS };
    }
    const z = this.baseline.observe(timestampMs, value);
    const { expected, seasonal } = this.baseline;
    const deviation = z / (z + T.z0);
    const sustained = this.likelihood.observe(deviation);
    let tail = T.spikeFactor > 0 ? Math.min(sustained, this.spike.observe(deviation) / T.spikeFactor) : sustained;
    let forestFired = false;
    if (this.forest) {
      const signed = value >= expected ? deviation : -deviation;
      const raw = this.forest.member.observe(signed);
      let forestTail = 1;
      if (raw >= 0) {
        const forestSustained = this.forest.likelihood.observe(raw);
        forestTail = T.spikeFactor > 0 ? Math.min(forestSustained, this.forest.spike.observe(raw) / T.spikeFactor) : forestSustained;
      }
      forestFired = forestTail < T.epsilon[this.settings.sensitivity];
      tail = this.method === 'isolation_forest' ? forestTail : Math.min(tail, forestTail / T.forest.ensembleFactor);
    }
    const epsilon = T.epsilon[this.settings.sensitivity];
    let score = Math.min(1, Math.max(0, Math.log10(Math.max(tail, 1e-300)) / (2 * Math.log10(T.epsilon.medium))));
    let novel = false;
    if (this.novelty) {
      let novelty = this.novelty.observe(value);
      for (const companion of this.companions) novelty = Math.max(novelty, companion.observe(value));
      if (this.provisional) {
        const provisional = this.provisional.observe(value);
        if (provisional > T.noveltyThreshold[this.settings.sensitivity] + T.provisionalNoveltyMargin) novelty = Math.max(novelty, provisional);
        if (!hasProvisional(T, this.n + 1)) this.provisional = null;
      }
      novel = novelty > T.noveltyThreshold[this.settings.sensitivity];
      if (novel) score = Math.max(score, 0.5 + 0.5 * novelty);
    }
    this.deviantRun = z >= T.likelihoodRun.z ? this.deviantRun + 1 : 0;
    const likelihoodExceeds = tail < epsilon && (z >= T.likelihoodMinZ || this.deviantRun >= T.likelihoodRun.points);
    const exceeds = this.n >= T.warmupPoints && (likelihoodExceeds || novel);
    const anomalous = exceeds && this.n >= this.suppressUntil;
    if (exceeds) this.suppressUntil = this.n + T.suppressPoints;
    let methods = NO_METHODS;
    if (anomalous) {
      methods = [];
      if (z >= T.zFire) methods.push('robust_zscore');
      if (seasonal) methods.push('seasonal');
      if (this.method !== 'isolation_forest' && (this.method !== 'novelty' || likelihoodExceeds)) methods.push('likelihood');
      if (forestFired) methods.push('isolation_forest');
      if (novel) methods.push('novelty');
    }
    this.lastTs = timestampMs;
    this.n++;
    return { anomalous, score, expected, severity: severityOf(score), methods };
  }

  snapshot(): SeriesDetectorState {
    return {
      version: 2,
      n: this.n,
      lastTs: this.lastTs === -Infinity ? -1 : this.lastTs,
      baseline: this.baseline.snapshot(),
      likelihood: this.likelihood.snapshot(),
      spike: this.spike.snapshot(),
      suppressUntil: this.suppressUntil,
      deviantRun: this.deviantRun,
      ...(this.forest
        ? { forest: { member: this.forest.member.snapshot(), likelihood: this.forest.likelihood.snapshot(), spike: this.forest.spike.snapshot() } }
        : {}),
      ...(this.novelty ? { novelty: this.novelty.snapshot() } : {}),
      ...(this.companions.length > 0 ? { companions: this.companions.map((companion) => companion.snapshot()) } : {}),
      ...(this.provisional ? { provisional: this.provisional.snapshot() } : {}),
    };
  }

  /** Null when `state` is not a snapshot of this version (older snapshots are discarded: the caller starts anew). */
  static restore(settings: DetectorSettings, state: SeriesDetectorState, tuning: DetectorTuning = TUNING): SeriesDetector | null {
    if (state?.version !== 2) return null;
    const detector = new SeriesDetector(settings, tuning);
    detector.n = state.n;
    detector.lastTs = state.n === 0 ? -Infinity : state.lastTs;
    detector.baseline = Baseline.restore(state.baseline);
    detector.likelihood = AnomalyLikelihood.restore(tuning.likelihood, state.likelihood);
    detector.spike = AnomalyLikelihood.restore({ ...tuning.likelihood, shortWindow: 1 }, state.spike);
    detector.suppressUntil = state.suppressUntil;
    detector.deviantRun = state.deviantRun ?? 0;
    if (detector.forest && state.forest) {
      detector.forest = {
        member: ForestMember.restore(tuning.forest, state.forest.member, state.n),
        likelihood: AnomalyLikelihood.restore(forestLikelihood(tuning), state.forest.likelihood),
        spike: AnomalyLikelihood.restore({ ...forestLikelihood(tuning), shortWindow: 1 }, state.forest.spike),
      };
    } else if (detector.forest) {
      detector.forest.member = ForestMember.restore(tuning.forest, undefined, state.n);
    }
    if (detector.novelty) {
      detector.novelty = NoveltyMember.restore(tuning.novelty, state.novelty);
      detector.companions = companionTunings(tuning).map((companion, index) => NoveltyMember.restore(companion, state.companions?.[index]));
      for (const companion of detector.companions) companion.shareFrontEnd(detector.novelty);
      detector.provisional = hasProvisional(tuning, state.n) ? NoveltyMember.restore(provisionalTuning(tuning), state.provisional) : null;
    }
    return detector;
  }
}
