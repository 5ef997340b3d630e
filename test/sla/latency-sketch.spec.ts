import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DDSketch } from '@datadog/sketches-js';
import { EXACT_SAMPLES_MAX, LatencySketch, SketchAccumulator, decodePairs } from '../../src/sla/latency-sketch.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, decompose, windowRange } from '../../src/sla/sla-windows.js';
import { DISTRIBUTIONS, exactQuantile, relativeError, seededRandom } from './generators.js';

const TOLERANCE = 0.01 + 1e-12;

describe('latency sketch', () => {
  for (const [name, distribution] of Object.entries(DISTRIBUTIONS)) {
    test(`${name}: p50/p95/p99/p99.9 of merged, encoded parts within 1 % of exact`, () => {
      const random = seededRandom(name.length * 7919);
      const values = Array.from({ length: 20_000 }, () => distribution(random));
      // As the store does it: many small rollups, encoded, merged at query time.
      const accumulator = new SketchAccumulator();
      for (let start = 0; start < values.length; start += 137) {
        const part = new LatencySketch();
        for (const value of values.slice(start, start + 137)) part.accept(value);
        accumulator.add(LatencySketch.decode(part.encode()).encode());
      }
      assert.equal(accumulator.count, values.length);
      for (const quantile of [0.5, 0.95, 0.99, 0.999]) {
        const exact = exactQuantile(values, quantile);
        const estimate = accumulator.quantile(quantile)!;
        assert.ok(relativeError(estimate, exact) <= TOLERANCE, `${name} q${quantile}: ${estimate} vs exact ${exact}`);
      }
    });
  }

  test('answers exactly what a DDSketch fed the same values answers', () => {
    const random = seededRandom(42);
    const reference = new DDSketch({ relativeAccuracy: 0.01 });
    const sketch = new LatencySketch();
    for (let index = 0; index < 5000; index++) {
      const value = DISTRIBUTIONS['lognormal']!(random);
      reference.accept(value);
      sketch.accept(value);
    }
    for (const quantile of [0.1, 0.5, 0.95, 0.99]) assert.equal(sketch.quantile(quantile), reference.getValueAtQuantile(quantile));
  });

  test('zero durations and an empty sketch', () => {
    const sketch = new LatencySketch();
    assert.equal(sketch.quantile(0.95), null);
    // Over EXACT_SAMPLES_MAX, so the bins (and their zero count) answer.
    for (let index = 0; index < 192; index++) sketch.accept(0);
    for (let index = 0; index < 8; index++) sketch.accept(100);
    assert.equal(sketch.encodeExact(), null);
    assert.equal(sketch.quantile(0.95), 0);
    assert.ok(relativeError(sketch.quantile(0.99)!, 100) <= TOLERANCE);
  });
});

describe('exact quantiles of few requests', () => {
  /** Durations no sketch bin represents exactly (its values are powers of 1.0202). */
  const durations = (count: number, seed: number) => {
    const random = seededRandom(seed);
    return Array.from({ length: count }, () => Math.round(DISTRIBUTIONS['lognormal']!(random) * 1000) / 1000 + 0.0001);
  };
  const sorted = (values: number[]) => [...values].sort((left, right) => left - right);

  test('one value is its own p95 and p99', () => {
    const sketch = new LatencySketch();
    sketch.accept(123.4);
    assert.equal(sketch.quantile(0.95), 123.4);
    assert.equal(sketch.quantile(0.99), 123.4);
    // The sketch alone would not say 123.4: what exactness changes.
    const reference = new DDSketch({ relativeAccuracy: 0.01 });
    reference.accept(123.4);
    assert.notEqual(reference.getValueAtQuantile(0.95), 123.4);
  });

  test(`up to ${EXACT_SAMPLES_MAX} values over stored rows: sorted[⌊q·(n−1)⌋], through encode, merge and pairs`, () => {
    const values = durations(EXACT_SAMPLES_MAX, 11);
    // Three rows as the store holds them, one of them merged with a stored row first.
    const rows = [values.slice(0, 30), values.slice(30, 61), values.slice(61)].map((part) => {
      const sketch = new LatencySketch();
      for (const value of part) sketch.accept(value);
      return sketch;
    });
    const merged = LatencySketch.decode(rows[1]!.encode(), rows[1]!.encodeExact());
    merged.mergeStored(rows[2]!.encode(), rows[2]!.encodeExact());
    const accumulator = new SketchAccumulator();
    accumulator.add(rows[0]!.encode(), rows[0]!.encodeExact());
    accumulator.addPairs(decodePairs(merged.encode(), merged.encodeExact()));
    assert.equal(accumulator.exact, true);
    const expected = sorted(values);
    assert.equal(accumulator.quantile(0.95), expected[94]);
    assert.equal(accumulator.quantile(0.99), expected[98]);
    assert.equal(accumulator.quantile(0.5), expected[49]);
    assert.equal(accumulator.count, EXACT_SAMPLES_MAX);
  });

  test(`${EXACT_SAMPLES_MAX + 1} values: no exact list, and the answer is the sketch's`, () => {
    const values = durations(EXACT_SAMPLES_MAX + 1, 12);
    const sketch = new LatencySketch();
    const reference = new DDSketch({ relativeAccuracy: 0.01 });
    for (const value of values) {
      sketch.accept(value);
      reference.accept(value);
    }
    assert.equal(sketch.encodeExact(), null);
    // Two rows that are exact each but not together.
    const first = new LatencySketch();
    const second = new LatencySketch();
    values.forEach((value, index) => (index % 2 ? first : second).accept(value));
    const accumulator = new SketchAccumulator();
    accumulator.add(first.encode(), first.encodeExact());
    accumulator.add(second.encode(), second.encodeExact());
    assert.equal(accumulator.exact, false);
    for (const quantile of [0.95, 0.99]) {
      assert.equal(sketch.quantile(quantile), reference.getValueAtQuantile(quantile));
      assert.equal(accumulator.quantile(quantile), reference.getValueAtQuantile(quantile));
    }
  });

  test('a row without exact values (written before they were kept), or with a list that does not match its count, makes the window estimated', () => {
    const values = durations(10, 13);
    const old = new LatencySketch();
    for (const value of values.slice(0, 5)) old.accept(value);
    const fresh = new LatencySketch();
    for (const value of values.slice(5)) fresh.accept(value);
    const reference = new DDSketch({ relativeAccuracy: 0.01 });
    for (const value of values) reference.accept(value);
    const stale = fresh.encodeExact()!.subarray(0, 8 * 4);
    for (const [label, oldExact] of [['no list', null], ['list one short', stale]] as const) {
      const accumulator = new SketchAccumulator();
      accumulator.add(fresh.encode(), fresh.encodeExact());
      accumulator.add(old.encode(), oldExact);
      assert.equal(accumulator.exact, false, label);
      assert.equal(accumulator.quantile(0.95), reference.getValueAtQuantile(0.95), label);
      // Merging into a stored row drops the list for good, so the row is rewritten without one.
      const row = LatencySketch.decode(old.encode(), oldExact);
      row.mergeStored(fresh.encode(), fresh.encodeExact());
      assert.equal(row.encodeExact(), null, label);
      assert.equal(row.count, 10, label);
    }
    // After reset() the accumulator is exact again for the next service.
    const accumulator = new SketchAccumulator();
    accumulator.add(old.encode(), null);
    accumulator.reset();
    accumulator.add(fresh.encode(), fresh.encodeExact());
    assert.equal(accumulator.quantile(0.99), sorted(values.slice(5))[3]);
  });
});

describe('window decomposition', () => {
  test('covers exactly the window minutes, without overlap, in at most 7 ranges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
        fc.constantFrom(5 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, DAY_MS, 3 * DAY_MS, 7 * DAY_MS, 30 * DAY_MS),
        (now, length) => {
          const range = windowRange(now, length);
          const parts = decompose(range);
          assert.ok(parts.length <= 7);
          let cursor = range.from;
          for (const part of parts) {
            assert.equal(part.from, cursor);
            const size = part.resolution === 'day' ? DAY_MS : part.resolution === 'hour' ? HOUR_MS : MINUTE_MS;
            assert.equal(part.from % size, 0);
            assert.equal(part.to % size, 0);
            cursor = part.to;
          }
          assert.equal(cursor, range.to);
        },
      ),
    );
  });

  test('on a minute boundary a window is exact to the second', () => {
    const now = Date.UTC(2026, 0, 10, 12, 0, 0);
    const range = windowRange(now, HOUR_MS);
    const inside = now - HOUR_MS + 1000;
    const outside = now - HOUR_MS - 1000;
    const minuteOf = (time: number) => Math.floor(time / MINUTE_MS) * MINUTE_MS;
    assert.ok(minuteOf(inside) >= range.from && minuteOf(inside) < range.to);
    assert.ok(minuteOf(outside) < range.from);
  });
});
