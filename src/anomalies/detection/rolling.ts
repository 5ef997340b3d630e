/**
 * Fixed-capacity rolling window that keeps its values both in arrival order (ring)
 * and sorted, so median and MAD are O(1) / O(n) without allocation.
 * Memory: 2 * capacity doubles.
 */
export class SortedWindow {
  private readonly ring: Float64Array;
  private readonly sorted: Float64Array;
  private head = 0; // index of the oldest element in ring
  private count = 0;

  constructor(readonly capacity: number) {
    this.ring = new Float64Array(capacity);
    this.sorted = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(x: number): void {
    if (this.count === this.capacity) {
      const old = this.ring[this.head];
      this.removeSorted(old);
      this.ring[this.head] = x;
      this.head = (this.head + 1) % this.capacity;
    } else {
      this.ring[(this.head + this.count) % this.capacity] = x;
      this.count++;
    }
    this.insertSorted(x);
  }

  private lowerBound(x: number, n: number): number {
    const a = this.sorted;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] < x) lo = mid + 1;
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

  /** Median absolute deviation around m (unscaled); m should be the median. O(n) two-pointer walk. */
  mad(m: number): number {
    const n = this.count;
    if (n === 0) return 0;
    const a = this.sorted;
    // deviations are |a[i]-m|; left side grows going left, right side grows going right.
    let r = this.lowerBound(m, n);
    let l = r - 1;
    const k1 = (n - 1) >> 1;
    const k2 = n >> 1;
    let prev = 0;
    let lowVal = 0;
    for (let k = 0; k <= k2; k++) {
      const dl = l >= 0 ? m - a[l] : Infinity;
      const dr = r < n ? a[r] - m : Infinity;
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
