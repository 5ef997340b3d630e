/**
 * Fixed-capacity rolling window that keeps its values both in arrival order (ring)
 * and sorted, so the median is O(1) and the MAD O(log n), without allocation.
 * Memory: 2 * capacity doubles.
 *
 * A NaN breaks the sorted order's binary searches (a NaN that leaves removes another value and stays
 * in `sorted`); once one has come in (values near the largest doubles can make one upstream), push and
 * mad take their original one-by-one paths for good, whose results the fast paths reproduce bit for
 * bit on windows that never held one.
 */
export class SortedWindow {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0; // index of the oldest element in ring
  private count = 0;
  /** A NaN came in (sticky: see the class comment). */
  private sawNaN = false;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): void {
    if (this.count === this.capacity) {
      const old = this.ring[this.head]!;
      this.ring[this.head] = x;
      this.head = this.head + 1 === this.capacity ? 0 : this.head + 1;
      if (this.sawNaN || x !== x) {
        this.sawNaN = true;
        this.removeSorted(old);
        this.insertSorted(x);
      } else {
        this.replaceSorted(old, x);
      }
    } else {
      if (x !== x) this.sawNaN = true;
      const end = this.head + this.count;
      this.ring[end >= this.capacity ? end - this.capacity : end] = x;
      this.count++;
      this.insertSorted(x);
    }
  }

  private lowerBound(x: number, n: number): number {
    const a = this.sorted;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private insertSorted(x: number): void {
    const n = this.count - 1; // elements already in sorted
    const i = this.lowerBound(x, n);
    this.sorted.copyWithin(i + 1, i, n);
    this.sorted[i] = x;
  }

  private removeSorted(x: number): void {
    const n = this.count;
    const i = this.lowerBound(x, n);
    this.sorted.copyWithin(i, i + 1, n);
  }

  /**
   * The full window's `old` leaves and `x` comes in: the same array as removing the first element equal
   * to `old` and then inserting `x` before the first element >= x, in one move of the elements between
   * the two positions only (a slowly moving series moves few).
   */
  private replaceSorted(old: number, x: number): void {
    const a = this.sorted;
    const n = this.count;
    const removed = this.lowerBound(old, n);
    // Where x goes once `removed` is out: before it the array is unchanged, after it shifted down by one.
    let at = this.lowerBound(x, n);
    if (at > removed) at--;
    // Short moves element by element, long ones by copyWithin (a call's overhead, then a memmove).
    if (at < removed) {
      if (removed - at > 16) a.copyWithin(at + 1, at, removed);
      else for (let i = removed; i > at; i--) a[i] = a[i - 1]!;
    } else if (at - removed > 16) {
      a.copyWithin(removed, removed + 1, at + 1);
    } else {
      for (let i = removed; i < at; i++) a[i] = a[i + 1]!;
    }
    a[at] = x;
  }

  /** Number of values in the window that are >= x. */
  countAtLeast(x: number): number {
    return this.count - this.lowerBound(x, this.count);
  }

  median(): number {
    const n = this.count;
    if (n === 0) return 0;
    const a = this.sorted;
    return n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
  }

  /**
   * Median absolute deviation around m (unscaled); m should be the median. The deviations below m
   * (m - a[r - 1 - j], j = 0, 1, ...) and from m up (a[r + j] - m) are two ascending sequences: their
   * merged order statistics k1 and k2 are found by a binary search of the split, O(log n). The same
   * values as merging them one by one (equal deviations are the same double: the ones below m are > 0).
   */
  mad(m: number): number {
    const n = this.count;
    if (n === 0) return 0;
    if (this.sawNaN || !Number.isFinite(m)) return this.madByWalk(m);
    const a = this.sorted;
    const r = this.lowerBound(m, n);
    const below = r; // deviations m - a[r - 1 - j], j < below
    const above = n - r; // deviations a[r + j] - m, j < above
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    // Split: `taken` of the lower sequence and k1 + 1 - taken of the upper one are the k1 + 1 smallest.
    let lo = k1 + 1 - above > 0 ? k1 + 1 - above : 0;
    let hi = k1 + 1 < below ? k1 + 1 : below;
    while (lo < hi) {
      const taken = (lo + hi) >>> 1;
      // Too few from the lower sequence when its next one is below the upper's last taken.
      const other = k1 + 1 - taken; // >= 1 here
      if (m - a[r - 1 - taken]! < a[r + other - 1]! - m) lo = taken + 1;
      else hi = taken;
    }
    const taken = lo;
    const other = k1 + 1 - taken;
    let lowVal: number;
    if (taken === 0) lowVal = a[r + other - 1]! - m;
    else if (other === 0) lowVal = m - a[r - taken]!;
    else {
      const fromBelow = m - a[r - taken]!;
      const fromAbove = a[r + other - 1]! - m;
      lowVal = fromBelow > fromAbove ? fromBelow : fromAbove;
    }
    if (k2 === k1) return (lowVal + lowVal) / 2;
    let next: number;
    if (taken === below) next = a[r + other]! - m;
    else if (other === above) next = m - a[r - 1 - taken]!;
    else {
      const fromBelow = m - a[r - 1 - taken]!;
      const fromAbove = a[r + other]! - m;
      next = fromBelow <= fromAbove ? fromBelow : fromAbove;
    }
    return (lowVal + next) / 2;
  }

  /** mad() by merging the two sequences of deviations one by one, O(n): with a NaN or an infinite median about. */
  private madByWalk(m: number): number {
    const n = this.count;
    const a = this.sorted;
    let r = this.lowerBound(m, n);
    let l = r - 1;
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    let prev = 0;
    let lowVal = 0;
    for (let k = 0; k <= k2; k++) {
      const dl = l >= 0 ? m - a[l]! : Infinity;
      const dr = r < n ? a[r]! - m : Infinity;
      let d: number;
      if (dl <= dr) {
        d = dl;
        l--;
      } else {
        d = dr;
        r++;
      }
      if (k === k1) lowVal = d;
      prev = d;
    }
    return (lowVal + prev) / 2;
  }

  /** Mean absolute deviation around m (fallback scale when MAD is 0). */
  meanAbsDev(m: number): number {
    const n = this.count;
    if (n === 0) return 0;
    let s = 0;
    for (let i = 0; i < n; i++) s += Math.abs(this.sorted[i] - m);
    return s / n;
  }

  /** Values oldest -> newest (for snapshots). */
  toArray(): number[] {
    const out = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.ring[(this.head + i) % this.capacity];
    return out;
  }

  static fromArray(capacity: number, values: readonly number[]): SortedWindow {
    const w = new SortedWindow(capacity);
    for (const v of values.slice(-capacity)) w.push(v);
    return w;
  }
}

/** Plain fixed-capacity ring of numbers (oldest dropped). */
export class Ring {
  private readonly buf: Float64Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): number | undefined {
    let dropped: number | undefined;
    if (this.count === this.capacity) {
      dropped = this.buf[this.head];
      this.buf[this.head] = x;
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.buf[(this.head + this.count) % this.capacity] = x;
      this.count++;
    }
    return dropped;
  }

  /** Mean of the elements (summed oldest -> newest, so it is reproducible after a restore). */
  mean(): number {
    if (this.count === 0) return 0;
    let s = 0;
    for (let i = 0; i < this.count; i++) s += this.buf[(this.head + i) % this.capacity];
    return s / this.count;
  }

  /** i = 0 is the oldest element. */
  at(i: number): number {
    return this.buf[(this.head + i) % this.capacity];
  }

  toArray(): number[] {
    const out = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.at(i);
    return out;
  }

  static fromArray(capacity: number, values: readonly number[]): Ring {
    const r = new Ring(capacity);
    for (const v of values.slice(-capacity)) r.push(v);
    return r;
  }
}

export function medianOf(values: ArrayLike<number>): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return 0;
  return n % 2 ? a[(n - 1) >> 1] : (a[n / 2 - 1] + a[n / 2]) / 2;
}
