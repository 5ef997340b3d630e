import { SortedWindow } from './rolling.js';
import { DailyProfile, type DailyProfileState } from './seasonal.js';

/** Rolling window (points) of the robust baselines. */
export const BASELINE_WINDOW = 128;
/** EWMA rate of each baseline's absolute prediction error (which one predicts better). */
const ERROR_RATE = 1 / 256;
const MAD_TO_SIGMA = 1.4826;
const MEAN_AD_TO_SIGMA = 1.2533;

export interface BaselineState {
  local: number[];
  deseason: number[];
  profile: DailyProfileState;
  errLocal: number;
  errSeasonal: number;
}

/**
 * The value expected of the next point and how far a point lies from it, robustly. Two candidates:
 * `local` = median of the last BASELINE_WINDOW values; `seasonal` = a daily (hour-of-day, UTC)
 * profile (seasonal.ts) plus the median of the last BASELINE_WINDOW de-seasonalised values. The one
 * with the lower recent absolute error is used. z = |x - expected| / (1.4826 MAD) of that window
 * (mean absolute deviation when the MAD is 0). Bounded state: 2 x 128 values, the profile (24 x 9
 * numbers), two errors.
 */
export class Baseline {
  private local = new SortedWindow(BASELINE_WINDOW);
  private deseason = new SortedWindow(BASELINE_WINDOW);
  private profile = new DailyProfile();
  private errLocal = 0;
  private errSeasonal = 0;

  /** What the next point at `timestampMs` is expected to be. */
  expect(timestampMs: number): number {
    const seasonal = this.profile.ready && this.errSeasonal < this.errLocal;
    if (seasonal) return this.deseason.median() + this.profile.offset(timestampMs);
    return this.local.size > 0 ? this.local.median() : 0;
  }

  /** Of the last observe(): the value expected and whether the seasonal baseline was chosen. */
  expected = 0;
  seasonal = false;

  /**
   * Judges the point against the history before it, then learns it. Returns its robust z; the
   * expectation is left in `expected` and `seasonal` (no object per point: this is the hot path).
   */
  observe(timestampMs: number, value: number): number {
    const haveHistory = this.local.size > 0;
    const medianLocal = haveHistory ? this.local.median() : value;
    const off = this.profile.offset(timestampMs);
    const medianDeseason = this.deseason.size > 0 ? this.deseason.median() : value - off;
    const expectLocal = medianLocal;
    const expectSeasonal = medianDeseason + off;
    const seasonal = this.profile.ready && this.errSeasonal < this.errLocal;
    const expected = seasonal ? expectSeasonal : expectLocal;
    const window = seasonal ? this.deseason : this.local;
    const centre = seasonal ? medianDeseason : medianLocal;
    let scale = MAD_TO_SIGMA * window.mad(centre);
    if (scale === 0) scale = MEAN_AD_TO_SIGMA * window.meanAbsDev(centre);
    const deviation = Math.abs(value - expected);
    const floor = 1e-9 * Math.max(1, Math.abs(expected));
    const z = haveHistory ? (scale > floor ? deviation / scale : deviation > floor ? 1e3 : 0) : 0;
    if (haveHistory) {
      this.errLocal += ERROR_RATE * (Math.abs(value - expectLocal) - this.errLocal);
      this.errSeasonal += ERROR_RATE * (Math.abs(value - expectSeasonal) - this.errSeasonal);
    }
    this.local.push(value);
    this.deseason.push(value - off);
    this.profile.add(timestampMs, value);
    this.expected = expected;
    this.seasonal = seasonal;
    return z;
  }

  snapshot(): BaselineState {
    return {
      local: this.local.toArray(),
      deseason: this.deseason.toArray(),
      profile: this.profile.snapshot(),
      errLocal: this.errLocal,
      errSeasonal: this.errSeasonal,
    };
  }

  static restore(state: BaselineState): Baseline {
    const baseline = new Baseline();
    baseline.local = SortedWindow.fromArray(BASELINE_WINDOW, state.local);
    baseline.deseason = SortedWindow.fromArray(BASELINE_WINDOW, state.deseason);
    baseline.profile = DailyProfile.restore(state.profile);
    baseline.errLocal = state.errLocal;
    baseline.errSeasonal = state.errSeasonal;
    return baseline;
  }
}
