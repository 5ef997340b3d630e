/**
 * Vigil streaming anomaly detector - one `SeriesDetector` per metric series.
 *
 * Pure TypeScript: no NestJS, no I/O, no clock, no Math.random (the isolation forest is trained
 * with a seeded generator whose state is part of the snapshot).
 *
 * PUBLIC API
 *   type Sensitivity = 'low' | 'medium' | 'high'            (medium = default, the tuned one)
 *   interface DetectorSettings { sensitivity: Sensitivity }
 *   interface PointVerdict { anomalous; score (0..1); expected; severity; methods: string[] }
 *   class SeriesDetector {
 *     static create(settings): SeriesDetector
 *     static restore(settings, state: SeriesDetectorState): SeriesDetector   // resumes, no new warm-up
 *     observe(timestampMs, value): PointVerdict     // hot path, a few µs
 *     isTrainingDue(): boolean                       // first time after ~warm-up, then every TRAIN_EVERY_POINTS
 *     train(): void                                  // retrains the isolation forest, ~5 ms; call off the hot path
 *     trainingRequest(): ForestModel | null          // train() in two halves, so the fitting can run
 *     installModel(model, forest): void              //   on another thread (FlatForest.train(sample, seed))
 *     snapshot(): SeriesDetectorState                // plain JSON-able object
 *     get pointsSeen(): number
 *   }
 *   const TRAIN_EVERY_POINTS                         // shared by the service's scheduled job and the backtest
 *
 * ALGORITHM (per point, causal: a point is judged only on state built from earlier points)
 *  1. Robust baseline. Two candidates: `local` = median of the last 128 values; `seasonal` = a daily
 *     (hour-of-day, UTC) profile learnt from the last 7 days (median of each hour's daily means,
 *     interpolated) plus the median of the last 128 de-seasonalised values. The one with the lower
 *     recent absolute prediction error (EWMA) is used, so daily patterns are expected on seasonal
 *     series and ignored elsewhere. Robust z = |x - expected| / (1.4826 MAD) of that window
 *     (mean-absolute-deviation fallback when MAD = 0). Robust raw score rz = z / (z + 4).
 *  2. Isolation forest (ml-isolation-forest, 32 trees) on [value, change from previous point,
 *     value - baseline], trained by train() on the last 256 feature rows sampled every 4th point
 *     (~1000 points of history). Threshold = 95th percentile of its own training scores; forest raw
 *     score rf = exceedance over the threshold scaled to [0, 1]. Raw score = max(rz, rf).
 *  3. Anomaly likelihood (NAB / Numenta idea): the mean raw score of the last 32 points and the
 *     current raw score are compared with their long-term distributions (exponentially weighted mean
 *     and variance, ~1000-point memory, std floor 0.03); tail = normal upper-tail probability.
 *     Sustained channel fires when tail < epsilon, spike channel when tail < epsilon * 1e-4.
 *     epsilon: low 1e-4, medium 1e-3, high 1e-2.
 *  4. Cooldown: an exceedance within 100 points of the previous exceedance belongs to the same
 *     incident and is not reported again (one incident -> one anomaly). Warm-up: 150 points.
 *  score = min(1, -log10(tail) / 6) (medium fires at score 0.5, low at 0.67, high at 0.33);
 *  severity from score (see severityOf).
 *
 * ORDERING: points must arrive in time order. A point with a timestamp OLDER than the last accepted
 * one, or a non-finite value/timestamp, is ignored by the model (state unchanged, pointsSeen not
 * incremented) and returned as not anomalous (with the current expected value). Equal timestamps
 * are accepted as new points.
 *
 * STATE BOUND per series (independent of how many points were seen): 2 x 128 window values,
 * 24 x (7 + 2) profile numbers, 32 recent raw scores, 3 x 256 forest sample rows, the 256 x 3 rows
 * the current forest was trained on, ~15 scalars: about 2,100 numbers, < 40 KB as JSON.
 * The trained forest itself (~6k nodes, ~75 KB of typed arrays) is not serialised: restore()
 * re-trains it from the stored training rows and seed, which yields the identical forest.
 */
import { FlatForest } from './forest.js';
import { SeededRandom } from './rng.js';
import { Ring, SortedWindow } from './rolling.js';
import { DailyProfile, type DailyProfileState } from './seasonal.js';
import { normalTail } from './stats.js';

export type Sensitivity = 'low' | 'medium' | 'high';
export type Severity = 'low' | 'medium' | 'high' | 'critical';

export interface DetectorSettings {
  sensitivity: Sensitivity;
}

export interface PointVerdict {
  anomalous: boolean;
  /** 0..1: -log10(likelihood tail) / 6, capped at 1 (0.5 = the medium threshold). */
  score: number;
  /** Baseline value expected at this point. */
  expected: number;
  severity: Severity;
  /** Methods that fired on this point: 'robust_zscore' | 'seasonal' | 'isolation_forest' | 'likelihood'. */
  methods: string[];
}

/** The service's scheduled job and the backtest both retrain every this many points per series. */
export const TRAIN_EVERY_POINTS = 1000;

/**
 * Internal tuning - ONE parameter set for every series (tuned on the NAB DEV half only).
 * Exported read-only for tests and experiments; not part of the service API.
 */
export const TUNING = {
  /** Rolling window (points) of the robust baselines. */
  localWindow: 128,
  /** EWMA rate of the per-baseline absolute prediction error used to pick local vs seasonal. */
  errAlpha: 1 / 256,
  /** No verdict is anomalous before this many points (per series). */
  warmupPoints: 150,
  /** Raw robust score = z / (z + z0), in [0, 1). */
  z0: 4,
  /** Horizon (points) of the sustained-change likelihood channel. */
  shortWindow: 32,
  /** EW rate of the long-term mean / variance of the raw scores (~1000-point memory). */
  longAlpha: 1 / 1024,
  /** Floor of the long-term standard deviation (as NAB's likelihood). */
  minSigma: 0.03,
  /** Likelihood needs this many scored points. */
  minLongCount: 100,
  /** One incident -> one anomaly: no new anomaly until this many points after the last exceedance. */
  cooldownPoints: 100,
  /** The single-point (spike) channel must be this many times more improbable than epsilon. */
  spikeFactor: 1e-4,
  /** Forest training sample: the last FOREST_SAMPLE feature rows, one every FOREST_STRIDE points. */
  forestSample: 256,
  forestStride: 4,
  forestMinSample: 64,
  /** Forest threshold = this quantile of its own training scores. */
  forestQuantile: 0.95,
  /** 'robust_zscore' is listed in methods when z >= zFire. */
  zFire: 4,
  /** Likelihood tail threshold per sensitivity (sustained channel; spike channel is x spikeFactor). */
  epsilon: { low: 1e-4, medium: 1e-3, high: 1e-2 } as Record<Sensitivity, number>,
} as const;

export interface SeriesDetectorState {
  version: 1;
  n: number;
  lastTs: number;
  lastX: number;
  local: number[];
  deseason: number[];
  profile: DailyProfileState;
  errLocal: number;
  errSeasonal: number;
  short: number[];
  longMean: number;
  longVar: number;
  longCount: number;
  spikeMean: number;
  spikeVar: number;
  sample: { value: number[]; change: number[]; residual: number[] };
  model: { seed: number; sample: number[][]; trainedAt: number } | null;
  rng: number;
  cooldownUntil: number;
}

/** What an isolation forest is fitted on: its training rows and seed (the forest itself is derived). */
export type ForestModel = NonNullable<SeriesDetectorState['model']>;

const MAD_TO_SIGMA = 1.4826;
const MEAN_AD_TO_SIGMA = 1.2533;

/** Severity from score: < 0.6 low, < 0.75 medium, < 0.9 high, else critical (score 0.9 = tail 1e-5.4). */
export function severityOf(score: number): Severity {
  if (score >= 0.9) return 'critical';
  if (score >= 0.75) return 'high';
  if (score >= 0.6) return 'medium';
  return 'low';
}

export class SeriesDetector {
  private n = 0;
  private lastTs = -Infinity;
  private lastX = NaN;
  private local = new SortedWindow(TUNING.localWindow);
  private deseason = new SortedWindow(TUNING.localWindow);
  private profile = new DailyProfile();
  private errLocal = 0;
  private errSeasonal = 0;
  private short = new Ring(TUNING.shortWindow);
  private spikeMean = 0;
  private spikeVar = 0;
  private longMean = 0;
  private longVar = 0;
  private longCount = 0;
  private sValue = new Ring(TUNING.forestSample);
  private sChange = new Ring(TUNING.forestSample);
  private sResidual = new Ring(TUNING.forestSample);
  private forest: FlatForest | null = null;
  private forestThreshold = 1;
  private model: SeriesDetectorState['model'] = null;
  private rng = new SeededRandom(0x5eed1e55);
  private cooldownUntil = 0;
  private readonly feature = new Float64Array(3);

  private constructor(private readonly settings: DetectorSettings) {}

  static create(settings: DetectorSettings): SeriesDetector {
    return new SeriesDetector(settings);
  }

  get pointsSeen(): number {
    return this.n;
  }

  /** True when the forest has never been trained (and enough history exists) or is TRAIN_EVERY_POINTS old. */
  isTrainingDue(every: number = TRAIN_EVERY_POINTS): boolean {
    if (this.sValue.size < TUNING.forestMinSample || this.n < TUNING.warmupPoints / 2) return false;
    return this.model === null || this.n - this.model.trainedAt >= every;
  }

  /** Retrains the isolation forest here and now: trainingRequest() fitted and installed at once. */
  train(): void {
    const model = this.trainingRequest();
    if (model) this.installModel(model, FlatForest.train(model.sample, model.seed).forest);
  }

  /**
   * The model train() would fit now, for fitting elsewhere (a worker thread): the current
   * training sample and a seed drawn from this detector's generator, which advances exactly as
   * train() advances it. Null when the sample is too small. Hand the forest fitted on it,
   * `FlatForest.train(model.sample, model.seed).forest`, to installModel().
   */
  trainingRequest(): ForestModel | null {
    const rows: number[][] = [];
    for (let i = 0; i < this.sValue.size; i++) rows.push([this.sValue.at(i), this.sChange.at(i), this.sResidual.at(i)]);
    if (rows.length < 2) return null;
    const seed = Math.floor(this.rng.next() * 4294967296) >>> 0;
    return { seed, sample: rows, trainedAt: this.n };
  }

  /** From now on points are scored by `forest`, which must have been fitted on `model`. */
  installModel(model: ForestModel, forest: FlatForest): void {
    this.model = model;
    this.forest = forest;
    this.forestThreshold = forest.trainingQuantile(TUNING.forestQuantile);
  }

  private fit(): void {
    if (this.model) this.installModel(this.model, FlatForest.train(this.model.sample, this.model.seed).forest);
  }

  observe(timestampMs: number, value: number): PointVerdict {
    const T = TUNING;
    // Baselines (computed from state = previous points only).
    const haveLocal = this.local.size > 0;
    const medA = haveLocal ? this.local.median() : value;
    const off = this.profile.offset(timestampMs);
    const medY = this.deseason.size > 0 ? this.deseason.median() : value - off;
    const expA = medA;
    const expB = medY + off;
    const useSeasonal = this.profile.ready && this.errSeasonal < this.errLocal;
    const expected = useSeasonal ? expB : expA;

    // Out-of-order or non-finite points are not used for the model and never flagged.
    if (!(timestampMs >= this.lastTs) || !Number.isFinite(value) || !Number.isFinite(timestampMs)) {
      return { anomalous: false, score: 0, expected, severity: 'low', methods: [] };
    }

    let scale: number;
    if (useSeasonal) {
      scale = MAD_TO_SIGMA * this.deseason.mad(medY);
      if (scale === 0) scale = MEAN_AD_TO_SIGMA * this.deseason.meanAbsDev(medY);
    } else {
      scale = MAD_TO_SIGMA * this.local.mad(medA);
      if (scale === 0) scale = MEAN_AD_TO_SIGMA * this.local.meanAbsDev(medA);
    }
    const dev = Math.abs(value - expected);
    const floor = 1e-9 * Math.max(1, Math.abs(expected));
    const z = haveLocal ? (scale > floor ? dev / scale : dev > floor ? 1e3 : 0) : 0;
    const rz = z / (z + T.z0);

    // Forest.
    const change = Number.isFinite(this.lastX) ? value - this.lastX : 0;
    let forestFired = false;
    let rf = 0;
    if (this.forest) {
      this.feature[0] = value;
      this.feature[1] = change;
      this.feature[2] = value - expected;
      const f = this.forest.scoreIfAbove(this.feature, this.forestThreshold);
      if (f !== null) {
        // exceedance over the calibrated threshold, scaled to [0, 1]
        forestFired = true;
        rf = Math.min(1, (f - this.forestThreshold) / Math.max(1e-6, 1 - this.forestThreshold));
      }
    }
    const raw = Math.max(rz, rf);

    // Likelihood of the short-term mean raw score under the long-term distribution
    // (two horizons: a fast one for spikes, a slow one for sustained changes).
    this.short.push(raw);
    const sm = this.short.mean();
    const fm = raw;
    let tail = 1;
    if (this.longCount >= T.minLongCount) {
      const sigma = Math.max(Math.sqrt(this.longVar), T.minSigma);
      tail = normalTail((sm - this.longMean) / sigma);
      const fsig = Math.max(Math.sqrt(this.spikeVar), T.minSigma);
      tail = Math.min(tail, normalTail((fm - this.spikeMean) / fsig) / T.spikeFactor);
    }
    const score = Math.min(1, Math.max(0, -Math.log10(Math.max(tail, 1e-300)) / 6));
    const eps = T.epsilon[this.settings.sensitivity];
    const warm = this.n >= T.warmupPoints;
    const exceeds = warm && tail < eps;
    const anomalous = exceeds && this.n >= this.cooldownUntil;
    if (exceeds) this.cooldownUntil = this.n + T.cooldownPoints;

    const methods: string[] = [];
    if (anomalous) {
      if (z >= T.zFire) methods.push('robust_zscore');
      if (useSeasonal) methods.push('seasonal');
      if (forestFired) methods.push('isolation_forest');
      methods.push('likelihood');
    }

    // ---- update state with this point ----
    {
      const a = Math.max(T.longAlpha, 1 / (this.longCount + 1));
      const d = sm - this.longMean;
      this.longMean += a * d;
      this.longVar = (1 - a) * (this.longVar + a * d * d);
      const e = fm - this.spikeMean;
      this.spikeMean += a * e;
      this.spikeVar = (1 - a) * (this.spikeVar + a * e * e);
    }
    this.longCount++;
    if (haveLocal) {
      this.errLocal += T.errAlpha * (Math.abs(value - expA) - this.errLocal);
      this.errSeasonal += T.errAlpha * (Math.abs(value - expB) - this.errSeasonal);
    }
    this.local.push(value);
    this.deseason.push(value - off);
    this.profile.add(timestampMs, value);
    if (this.n % T.forestStride === 0) {
      this.sValue.push(value);
      this.sChange.push(change);
      this.sResidual.push(value - expected);
    }
    this.lastX = value;
    this.lastTs = timestampMs;
    this.n++;
    return { anomalous, score, expected, severity: severityOf(score), methods };
  }

  snapshot(): SeriesDetectorState {
    return {
      version: 1,
      n: this.n,
      lastTs: this.lastTs === -Infinity ? -1 : this.lastTs,
      lastX: Number.isFinite(this.lastX) ? this.lastX : 0,
      local: this.local.toArray(),
      deseason: this.deseason.toArray(),
      profile: this.profile.snapshot(),
      errLocal: this.errLocal,
      errSeasonal: this.errSeasonal,
      short: this.short.toArray(),
      longMean: this.longMean,
      longVar: this.longVar,
      longCount: this.longCount,
      spikeMean: this.spikeMean,
      spikeVar: this.spikeVar,
      sample: { value: this.sValue.toArray(), change: this.sChange.toArray(), residual: this.sResidual.toArray() },
      model: this.model ? { seed: this.model.seed, sample: this.model.sample.map((r) => r.slice()), trainedAt: this.model.trainedAt } : null,
      rng: this.rng.state,
      cooldownUntil: this.cooldownUntil,
    };
  }

  static restore(settings: DetectorSettings, s: SeriesDetectorState): SeriesDetector {
    const d = new SeriesDetector(settings);
    d.n = s.n;
    d.lastTs = s.n === 0 ? -Infinity : s.lastTs;
    d.lastX = s.n === 0 ? NaN : s.lastX;
    d.local = SortedWindow.fromArray(TUNING.localWindow, s.local);
    d.deseason = SortedWindow.fromArray(TUNING.localWindow, s.deseason);
    d.profile = DailyProfile.restore(s.profile);
    d.errLocal = s.errLocal;
    d.errSeasonal = s.errSeasonal;
    d.short = Ring.fromArray(TUNING.shortWindow, s.short);
    d.longMean = s.longMean;
    d.longVar = s.longVar;
    d.longCount = s.longCount;
    d.spikeMean = s.spikeMean;
    d.spikeVar = s.spikeVar;
    d.sValue = Ring.fromArray(TUNING.forestSample, s.sample.value);
    d.sChange = Ring.fromArray(TUNING.forestSample, s.sample.change);
    d.sResidual = Ring.fromArray(TUNING.forestSample, s.sample.residual);
    d.model = s.model ? { seed: s.model.seed, sample: s.model.sample.map((r) => r.slice()), trainedAt: s.model.trainedAt } : null;
    d.rng = new SeededRandom(s.rng);
    d.cooldownUntil = s.cooldownUntil;
    d.fit();
    return d;
  }
}
