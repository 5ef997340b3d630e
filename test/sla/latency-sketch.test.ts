import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { DDSketch } from '@datadog/sketches-js';
import { LatencySketch, SketchAccumulator } from '../../src/sla/latency-sketch.js';
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
    for (let index = 0; index < 96; index++) sketch.accept(0);
    for (let index = 0; index < 4; index++) sketch.accept(100);
    assert.equal(sketch.quantile(0.95), 0);
    assert.ok(relativeError(sketch.quantile(0.99)!, 100) <= TOLERANCE);
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
