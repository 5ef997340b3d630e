import { DDSketch } from '@datadog/sketches-js';

/**
 * Relative accuracy of every latency quantile Vigil reports: a returned p95/p99 is
 * within 1 % of the exact quantile (DDSketch's guarantee for its logarithmic mapping).
 */
export const RELATIVE_ACCURACY = 0.01;

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
 * A mergeable latency sketch with sparse bins: what one rollup row holds. Counts
 * are additive, so merging rollups is exact (the 1 % comes only from binning).
 */
export class LatencySketch {
  private readonly bins = new Map<number, number>();
  private total = 0;

  get count(): number {
    return this.total;
  }

  accept(valueMs: number, weight = 1): void {
    const key = keyOf(valueMs);
    this.bins.set(key, (this.bins.get(key) ?? 0) + weight);
    this.total += weight;
  }

  merge(other: LatencySketch): void {
    for (const [key, count] of other.bins) this.bins.set(key, (this.bins.get(key) ?? 0) + count);
    this.total += other.total;
  }

  mergeEncoded(encoded: Uint8Array): void {
    const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    for (let offset = 0; offset + PAIR_BYTES <= view.length; offset += PAIR_BYTES) {
      const key = view.readInt16LE(offset);
      const count = view.readDoubleLE(offset + 2);
      this.bins.set(key, (this.bins.get(key) ?? 0) + count);
      this.total += count;
    }
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

  static decode(encoded: Uint8Array): LatencySketch {
    const sketch = new LatencySketch();
    sketch.mergeEncoded(encoded);
    return sketch;
  }

  quantile(quantile: number): number | null {
    const accumulator = new SketchAccumulator();
    accumulator.add(this.encode());
    return accumulator.quantile(quantile);
  }
}

/** Decoded bins, for sketches merged again and again (cached hour and day rows). */
export interface SketchPairs {
  keys: Int16Array;
  counts: Float64Array;
}

export function decodePairs(encoded: Uint8Array): SketchPairs {
  const view = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  const length = Math.floor(view.length / PAIR_BYTES);
  const pairs = { keys: new Int16Array(length), counts: new Float64Array(length) };
  for (let index = 0; index < length; index++) {
    pairs.keys[index] = view.readInt16LE(index * PAIR_BYTES);
    pairs.counts[index] = view.readDoubleLE(index * PAIR_BYTES + 2);
  }
  return pairs;
}

/**
 * Dense, reusable accumulator for merging many encoded rollups quickly (a 30-day
 * window merges a few hundred per service). 32 KiB; reset() between services.
 */
export class SketchAccumulator {
  private readonly counts = new Float64Array(KEY_RANGE);
  private zeros = 0;
  private total = 0;
  private lowest = KEY_RANGE;
  private highest = -1;

  get count(): number {
    return this.total;
  }

  reset(): void {
    if (this.highest >= this.lowest) this.counts.fill(0, this.lowest, this.highest + 1);
    this.zeros = 0;
    this.total = 0;
    this.lowest = KEY_RANGE;
    this.highest = -1;
  }

  add(encoded: Uint8Array): void {
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

  /**
   * The value at rank q·(n−1), as DDSketch.getValueAtQuantile computes it: within
   * 1 % of the exact sorted[floor(q·(n−1))]. Null when empty.
   */
  quantile(quantile: number): number | null {
    if (this.total === 0) return null;
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
