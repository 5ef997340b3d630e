/**
 * Vigil streaming anomaly detector - one `SeriesDetector` per metric series.
 *
 * Pure TypeScript: no NestJS, no I/O, no clock, no Math.random (the isolation forest is trained
 * with a seeded generator). See README-style notes below and the public API at the bottom.
 *
 * ALGORITHM (per point, causal: a point is judged only on the state built from earlier points)
 *  1. Robust baseline. Two candidate baselines are kept:
 *       local    - median of the last LOCAL_WINDOW raw values,
 *       seasonal - a daily (hour-of-day, UTC) profile is learnt from the last 7 days; values are
 *                  de-seasonalised with it and the baseline is the median of the last LOCAL_WINDOW
 *                  de-seasonalised values plus the profile offset at the point's time.
 *     The baseline used is the one with the lower recent absolute prediction error (EWMA), so a
 *     daily pattern is "expected" on seasonal series and ignored on the others. The robust
 *     z-score is |x - expected| / (1.4826 * MAD) of the same window (mean-abs-dev fallback).
 *  2. Isolation forest (ml-isolation-forest) on window features [value, change from previous,
 *     distance from the baseline]. It is trained OFF the hot path: `isTrainingDue()` / `train()`,
 *     on a strided sample of recent history (FOREST_SAMPLE rows, one every FOREST_STRIDE points).
 *     Its threshold is calibrated from its own training scores (FOREST_QUANTILE quantile).
 *  3. Raw score in [0,1): combination of the robust z (saturating transform) and the forest's
 *     exceedance over its calibrated threshold.
 *  4. Anomaly likelihood (as in NAB / Numenta): the short-term mean of raw scores is compared with
 *     the long-term distribution of that mean (exponentially weighted mean / variance); the tail
 *     probability under a normal model is the likelihood. A point is anomalous when it is improbable
 *     (tail < epsilon(sensitivity)), after warm-up, and outside the cooldown of the previous anomaly
 *     (one incident -> one anomaly).
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
  /** 0..1: -log10(likelihood tail) / 10, capped at 1. */
  score: number;
  /** Baseline value expected at this point. */
  expected: number;
  severity: Severity;
  /** Methods that fired on this point: 'robust_zscore' | 'seasonal' | 'isolation_forest' | 'likelihood'. */
  methods: string[];
}

/** The service's scheduled job and the backtest both retrain every this many points per series. */
export const TRAIN_EVERY_POINTS = 1000;

/** Internal tuning (one parameter set for every series). Exported for tests / experiments only. */
export const TUNING = {
  localWindow: 128,
  errAlpha: 1 / 256,
  warmupPoints: 300,
  z0: 4,
  shortWindow: 8,
  longAlpha: 1 / 1024,
  minSigma: 0.03,
  minLongCount: 200,
  cooldownPoints: 250,
  burstCooldown: false,
  fastWindow: 0,
  fastPenalty: 1,
  escalation: 0,
  forestSample: 256,
  forestStride: 4,
  forestMinSample: 64,
  forestQuantile: 0.99,
  forestWeight: 0.5,
  forestMode: 'none' as 'none' | 'blend' | 'max',
  forestRaw: 'excess' as 'excess' | 'ecdf' | 'lin',
  zFire: 4,
  rawMode: 'ratio' as 'ratio' | 'rank' | 'logp',
  zHistory: 256,
  logCap: 6,
  epsilon: { low: 1e-6, medium: 1e-5, high: 1e-4 } as Record<Sensitivity, number>,
};

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
  sample: { value: number[]; change: number[]; residual: number[] };
  model: { seed: number; sample: number[][]; trainedAt: number } | null;
  rng: number;
  cooldownUntil: number;
}

const MAD_TO_SIGMA = 1.4826;
const MEAN_AD_TO_SIGMA = 1.2533;

function severityOf(score: number): Severity {
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
  private fast = new Ring(Math.max(1, TUNING.fastWindow));
  private fastMean = 0;
  private fastVar = 0;
  private incidentTail = 1;
  private zHist = new SortedWindow(TUNING.zHistory);
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

  train(): void {
    const rows: number[][] = [];
    for (let i = 0; i < this.sValue.size; i++) rows.push([this.sValue.at(i), this.sChange.at(i), this.sResidual.at(i)]);
    if (rows.length < 2) return;
    const seed = Math.floor(this.rng.next() * 4294967296) >>> 0;
    this.model = { seed, sample: rows, trainedAt: this.n };
    this.fit();
  }

  private fit(): void {
    if (!this.model) return;
    const { forest } = FlatForest.train(this.model.sample, this.model.seed);
    this.forest = forest;
    this.forestThreshold = forest.trainingQuantile(TUNING.forestQuantile);
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
    let rz: number;
    if (T.rawMode === 'ratio') rz = z / (z + T.z0);
    else {
      const m = this.zHist.size;
      const p = m > 0 ? (this.zHist.countAtLeast(z) + 1) / (m + 1) : 1;
      rz = T.rawMode === 'rank' ? 1 - p : Math.min(-Math.log(p), T.logCap) / T.logCap;
    }

    // Forest.
    const change = Number.isFinite(this.lastX) ? value - this.lastX : 0;
    let forestFired = false;
    let rf = 0;
    if (this.forest) {
      this.feature[0] = value;
      this.feature[1] = change;
      this.feature[2] = value - expected;
      const f = this.forest.score(this.feature);
      if (f > this.forestThreshold) forestFired = true;
      if (T.forestRaw === 'excess') rf = forestFired ? Math.min(1, (f - this.forestThreshold) / Math.max(1e-6, 1 - this.forestThreshold)) : 0;
      else if (T.forestRaw === 'ecdf') rf = this.forest.ecdf(f);
      else rf = Math.max(0, (f - 0.5) * 2);
    }
    let raw = rz;
    if (this.forest && T.forestMode === 'blend') {
      raw = (1 - T.forestWeight) * rz + T.forestWeight * rf;
    } else if (this.forest && T.forestMode === 'max') raw = Math.max(rz, rf);

    // Likelihood of the short-term mean raw score under the long-term distribution
    // (two horizons: a fast one for spikes, a slow one for sustained changes).
    this.short.push(raw);
    this.fast.push(raw);
    const sm = this.short.mean();
    const fm = this.fast.mean();
    let tail = 1;
    if (this.longCount >= T.minLongCount) {
      const sigma = Math.max(Math.sqrt(this.longVar), T.minSigma);
      tail = normalTail((sm - this.longMean) / sigma);
      if (T.fastWindow > 0) {
        const fsig = Math.max(Math.sqrt(this.fastVar), T.minSigma);
        tail = Math.min(tail, T.fastPenalty * normalTail((fm - this.fastMean) / fsig));
      }
    }
    const score = Math.min(1, Math.max(0, -Math.log10(Math.max(tail, 1e-300)) / 10));
    const eps = T.epsilon[this.settings.sensitivity];
    const warm = this.n >= T.warmupPoints;
    const exceeds = warm && tail < eps;
    const escalated = exceeds && this.n < this.cooldownUntil && tail < this.incidentTail * T.escalation;
    const anomalous = exceeds && (this.n >= this.cooldownUntil || escalated);
    if (exceeds && T.burstCooldown) this.cooldownUntil = this.n + T.cooldownPoints;
    if (anomalous) this.incidentTail = tail;

    const methods: string[] = [];
    if (anomalous) {
      if (z >= T.zFire) methods.push('robust_zscore');
      if (useSeasonal) methods.push('seasonal');
      if (forestFired) methods.push('isolation_forest');
      methods.push('likelihood');
      this.cooldownUntil = this.n + T.cooldownPoints;
    }

    // ---- update state with this point ----
    {
      const a = Math.max(T.longAlpha, 1 / (this.longCount + 1));
      const d = sm - this.longMean;
      this.longMean += a * d;
      this.longVar = (1 - a) * (this.longVar + a * d * d);
      const e = fm - this.fastMean;
      this.fastMean += a * e;
      this.fastVar = (1 - a) * (this.fastVar + a * e * e);
    }
    this.longCount++;
    if (haveLocal) {
      this.errLocal += T.errAlpha * (Math.abs(value - expA) - this.errLocal);
      this.errSeasonal += T.errAlpha * (Math.abs(value - expB) - this.errSeasonal);
    }
    if (haveLocal) this.zHist.push(z);
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
