import { DDSketch } from '@datadog/sketches-js';

/**
 * Relative accuracy of every latency quantile Vigil reports: a returned p95/p99 is
 * within 1 % of the exact quantile (DDSketch's guarantee for its logarithmic mapping).
 */
export const RELATIVE_ACCURACY = 0.01;

/**
 * A rollup row, and a window, that holds at most this many requests keeps their
 * durations exactly (8 bytes each beside the bins), so its p95/p99 are exact: the
 * value at rank ⌊q·(n−1)⌋ of the sorted durations, the same rank the sketch
 * approximates. Above it only the bins are kept and quantiles are within 1 %.
 */
export const EXACT_SAMPLES_MAX = 100;
const EXACT_BYTES = 8;

// The logarithmic mapping of @datadog/sketches-js (gamma = 1.0202 at 1 %): bin keys
// and each bin's representative value come from it, so quantiles are exactly
// what a DDSketch fed the same values answers. Its serialisation (protobuf) loses
// min/max/sum and decodes slowly, so Vigil stores the bins itself (encode below).
const MAPPING = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;

// Keys kept: value(-2048) ≈ 1.6e-18 ms and value(2047) ≈ 6e17 ms. Smaller positive
// durations count as zero; larger ones land in the top bin. No real latency is either.
const MIN_KEY = -2048;
const MAX_KEY = 2047;
const KEY_RANGE = MAX_KEY - MIN_KEY + 1;
const ZERO_KEY = -32768;
const PAIR_BYTES = 10;

function keyOf(valueMs: number): number {
  if (!(valueMs > MAPPING.minPossible)) return ZERO_KEY;
  const key = MAPPING.key(valueMs);
  if (key < MIN_KEY) return ZERO_KEY;
  return key > MAX_KEY ? MAX_KEY : key;
}

/**
 * The exact durations stored beside a row's bins (float64, little-endian), or null
 * when the row has none: it held more than EXACT_SAMPLES_MAX requests, it was
 * written before exact durations were kept, or their number is not the row's
 * count (a writer that did not know the column updated the bins only).
 */
export function decodeExact(encoded: Uint8Array | null | undefined, count: number): Float64Array | null {
  if (!encoded || encoded.byteLength !== count * EXACT_BYTES || count > EXACT_SAMPLES_MAX) return null;
  const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const values = new Float64Array(count);
  for (let index = 0; index < count; index++) values[index] = view.readDoubleLE(index * EXACT_BYTES);
  return values;
}

/** Sum of the counts of encoded bins. */
function countOf(encoded: Uint8Array): number {
  const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  let total = 0;
  for (let offset = 0; offset + PAIR_BYTES <= view.length; offset += PAIR_BYTES) total += view.readDoubleLE(offset + 2);
  return total;
}

/** The value at rank ⌊q·(n−1)⌋ of sorted values: the quantile the sketch approximates. */
export function exactQuantile(sorted: ArrayLike<number>, quantile: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.floor(quantile * (sorted.length - 1))]!;
}

/**
 * A mergeable latency sketch with sparse bins: what one rollup row holds. Counts
 * are additive, so merging rollups is exact (the 1 % comes only from binning).
 * While it holds at most EXACT_SAMPLES_MAX values it also keeps them exactly.
 */
export class LatencySketch {
  private readonly bins = new Map<number, number>();
  private total = 0;
  /** Every accepted value while there are at most EXACT_SAMPLES_MAX, else null for good. */
  private exact: number[] | null = [];

  get count(): number {
    return this.total;
  }

  accept(valueMs: number): void {
    const key = keyOf(valueMs);
    this.bins.set(key, (this.bins.get(key) ?? 0) + 1);
    this.total += 1;
    this.keepExact([valueMs]);
  }

  merge(other: LatencySketch): void {
    for (const [key, count] of other.bins) this.bins.set(key, (this.bins.get(key) ?? 0) + count);
    this.total += other.total;
    this.keepExact(other.exact);
  }

  /** Adds a stored row: its encoded bins and its exact durations (null when it has none). */
  mergeStored(encoded: Uint8Array, exact: Uint8Array | null | undefined): void {
    const before = this.total;
    const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    for (let offset = 0; offset + PAIR_BYTES <= view.length; offset += PAIR_BYTES) {
      const key = view.readInt16LE(offset);
      const count = view.readDoubleLE(offset + 2);
      this.bins.set(key, (this.bins.get(key) ?? 0) + count);
      this.total += count;
    }
    const values = decodeExact(exact, this.total - before);
    this.keepExact(values && Array.from(values));
  }

  /** Values added after total was raised: kept while every value so far is known and they fit. */
  private keepExact(values: readonly number[] | null): void {
    if (this.exact === null) return;
    if (values === null || this.total > EXACT_SAMPLES_MAX) {
      this.exact = null;
      return;
    }
    this.exact.push(...values);
  }

  /** The exact durations (float64, little-endian) while there are at most EXACT_SAMPLES_MAX, else null. */
  encodeExact(): Buffer | null {
    if (this.exact === null) return null;
    const buffer = Buffer.allocUnsafe(this.exact.length * EXACT_BYTES);
    this.exact.forEach((value, index) => buffer.writeDoubleLE(value, index * EXACT_BYTES));
    return buffer;
  }

  /** Bins as (int16 key, float64 count) pairs, little-endian, ascending key; ZERO_KEY holds zeros. */
  encode(): Buffer {
    const keys = [...this.bins.keys()].sort((left, right) => left - right);
    const buffer = Buffer.allocUnsafe(keys.length * PAIR_BYTES);
    keys.forEach((key, index) => {
      buffer.writeInt16LE(key, index * PAIR_BYTES);
      buffer.writeDoubleLE(this.bins.get(key)!, index * PAIR_BYTES + 2);
    });
    return buffer;
  }

  static decode(encoded: Uint8Array, exact?: Uint8Array | null): LatencySketch {
    const sketch = new LatencySketch();
    sketch.mergeStored(encoded, exact);
    return sketch;
  }

  /** What a window of exactly these values answers (exact while they are few). */
  quantile(quantile: number): number | null {
    const accumulator = new SketchAccumulator();
    accumulator.add(this.encode(), this.encodeExact());
    return accumulator.quantile(quantile);
  }
}

/** Decoded bins and exact durations, for rows merged again and again (cached hour and day rows). */
export interface SketchPairs {
  keys: Int16Array;
  counts: Float64Array;
  /** The row's durations when it keeps them (see decodeExact), else null. */
  exact: Float64Array | null;
}

export function decodePairs(encoded: Uint8Array, exact?: Uint8Array | null): SketchPairs {
  const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const length = Math.floor(view.length / PAIR_BYTES);
  const pairs: SketchPairs = { keys: new Int16Array(length), counts: new Float64Array(length), exact: null };
  let total = 0;
  for (let index = 0; index < length; index++) {
    pairs.keys[index] = view.readInt16LE(index * PAIR_BYTES);
    pairs.counts[index] = view.readDoubleLE(index * PAIR_BYTES + 2);
    total += pairs.counts[index]!;
  }
  pairs.exact = decodeExact(exact, total);
  return pairs;
}

/**
 * Dense, reusable accumulator for merging many encoded rollups quickly (a 30-day
 * window merges a few hundred per service). 32 KiB, plus at most EXACT_SAMPLES_MAX
 * exact durations; reset() between services.
 */
export class SketchAccumulator {
  private readonly counts = new Float64Array(KEY_RANGE);
  private zeros = 0;
  private total = 0;
  private lowest = KEY_RANGE;
  private highest = -1;
  /** The exact durations of every row added, while each row had them and they fit; else null. */
  private exactValues: number[] | null = [];
  private exactSorted = true;

  get count(): number {
    return this.total;
  }

  /** Whether quantile() answers exact values (false when empty). */
  get exact(): boolean {
    return this.total > 0 && this.exactValues !== null && this.exactValues.length === this.total;
  }

  reset(): void {
    if (this.highest >= this.lowest) this.counts.fill(0, this.lowest, this.highest + 1);
    this.zeros = 0;
    this.total = 0;
    this.lowest = KEY_RANGE;
    this.highest = -1;
    this.exactValues = [];
    this.exactSorted = true;
  }

  /** Adds a row: its encoded bins and its stored exact durations (null or absent when it has none). */
  add(encoded: Uint8Array, exact?: Uint8Array | null): void {
    if (this.exactValues !== null) {
      // Decoded only while the window can still be exact: a busy window stops looking at once.
      const rowCount = exact ? countOf(encoded) : Infinity;
      this.addExact(this.total + rowCount <= EXACT_SAMPLES_MAX ? decodeExact(exact, rowCount) : null);
    }
    const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    for (let offset = 0; offset + PAIR_BYTES <= view.length; offset += PAIR_BYTES) {
      const key = view.readInt16LE(offset);
      const count = view.readDoubleLE(offset + 2);
      this.total += count;
      if (key === ZERO_KEY) {
        this.zeros += count;
        continue;
      }
      const index = key - MIN_KEY;
      this.counts[index]! += count;
      if (index < this.lowest) this.lowest = index;
      if (index > this.highest) this.highest = index;
    }
  }

  addPairs(pairs: SketchPairs): void {
    if (this.exactValues !== null) this.addExact(pairs.exact);
    const { keys, counts } = pairs;
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!;
      const count = counts[index]!;
      this.total += count;
      if (key === ZERO_KEY) {
        this.zeros += count;
        continue;
      }
      const slot = key - MIN_KEY;
      this.counts[slot]! += count;
      if (slot < this.lowest) this.lowest = slot;
      if (slot > this.highest) this.highest = slot;
    }
  }

  /** Called before the row's counts are added; drops exactness for good when a row has none or they overflow. */
  private addExact(values: Float64Array | null): void {
    if (this.exactValues === null) return;
    if (values === null || this.exactValues.length + values.length > EXACT_SAMPLES_MAX) {
      this.exactValues = null;
      return;
    }
    for (const value of values) this.exactValues.push(value);
    this.exactSorted = false;
  }

  /**
   * Exactly sorted[⌊q·(n−1)⌋] while every row added kept its durations and they
   * number at most EXACT_SAMPLES_MAX; otherwise the value at rank q·(n−1) as
   * DDSketch.getValueAtQuantile computes it: within 1 % of that. Null when empty.
   */
  quantile(quantile: number): number | null {
    if (this.total === 0) return null;
    if (this.exact) {
      const values = this.exactValues!;
      if (!this.exactSorted) values.sort((left, right) => left - right);
      this.exactSorted = true;
      return exactQuantile(values, quantile);
    }
    const rank = quantile * (this.total - 1);
    if (rank < this.zeros) return 0;
    let cumulative = this.zeros;
    for (let index = this.lowest; index <= this.highest; index++) {
      cumulative += this.counts[index]!;
      if (cumulative > rank) return MAPPING.value(index + MIN_KEY);
    }
    return MAPPING.value(this.highest + MIN_KEY);
  }
}
