import { medianOf } from './rolling.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Hour-of-day buckets of the daily profile. */
export const PROFILE_BUCKETS = 24;
/** Days of history kept per bucket (ring of daily bucket means). */
export const PROFILE_DAYS = 7;
/** A bucket's offset is usable once it has this many complete days. */
export const PROFILE_MIN_DAYS = 2;

export interface DailyProfileState {
  day: number; // epoch day of the accumulating sums, -1 before the first point
  sums: number[];
  counts: number[];
  history: number[][]; // per bucket, daily means oldest -> newest (<= PROFILE_DAYS)
}

/**
 * Daily (hour-of-day, UTC) seasonal profile. For each hour bucket it keeps the mean of that
 * hour for each of the last PROFILE_DAYS days; the profile offset of a bucket is the median
 * of those daily means minus the median level across buckets. offset(t) interpolates
 * linearly between bucket centres. Bounded state: 24 * (7 + 2) numbers.
 * The current day never contributes to its own offsets (causal).
 */
export class DailyProfile {
  private day = -1;
  private readonly sums = new Float64Array(PROFILE_BUCKETS);
  private readonly counts = new Float64Array(PROFILE_BUCKETS);
  private readonly history: number[][] = Array.from({ length: PROFILE_BUCKETS }, () => []);
  private readonly offsets = new Float64Array(PROFILE_BUCKETS);
  private isReady = false;

  get ready(): boolean {
    return this.isReady;
  }

  /** Seasonal offset expected at time t (0 until the profile is ready). */
  offset(t: number): number {
    if (!this.isReady) return 0;
    const h = ((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS) - 0.5; // position relative to bucket centres
    const lo = Math.floor(h);
    const frac = h - lo;
    const a = this.offsets[(lo + PROFILE_BUCKETS) % PROFILE_BUCKETS];
    const b = this.offsets[(lo + 1) % PROFILE_BUCKETS];
    return a + (b - a) * frac;
  }

  add(t: number, x: number): void {
    const day = Math.floor(t / DAY_MS);
    if (day !== this.day) {
      if (this.day >= 0) this.closeDay();
      this.day = day;
    }
    const b = Math.floor((((t % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
    this.sums[b] += x;
    this.counts[b] += 1;
  }

  private closeDay(): void {
    for (let b = 0; b < PROFILE_BUCKETS; b++) {
      if (this.counts[b] > 0) {
        const h = this.history[b];
        h.push(this.sums[b] / this.counts[b]);
        if (h.length > PROFILE_DAYS) h.shift();
      }
      this.sums[b] = 0;
      this.counts[b] = 0;
    }
    this.recompute();
  }

  private recompute(): void {
    let ok = true;
    const med = new Array<number>(PROFILE_BUCKETS);
    for (let b = 0; b < PROFILE_BUCKETS; b++) {
      if (this.history[b].length < PROFILE_MIN_DAYS) ok = false;
      med[b] = this.history[b].length ? medianOf(this.history[b]) : 0;
    }
    this.isReady = ok;
    if (!ok) return;
    const level = medianOf(med);
    for (let b = 0; b < PROFILE_BUCKETS; b++) this.offsets[b] = med[b] - level;
  }

  snapshot(): DailyProfileState {
    return {
      day: this.day,
      sums: Array.from(this.sums),
      counts: Array.from(this.counts),
      history: this.history.map((h) => h.slice()),
    };
  }

  static restore(s: DailyProfileState): DailyProfile {
    const p = new DailyProfile();
    p.day = s.day;
    p.sums.set(s.sums);
    p.counts.set(s.counts);
    for (let b = 0; b < PROFILE_BUCKETS; b++) p.history[b].push(...s.history[b].slice(-PROFILE_DAYS));
    p.recompute();
    return p;
  }
}
