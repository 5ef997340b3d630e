/**
 * SortedWindow (rolling.ts): median and MAD after every push, against a reference computed from a
 * sorted copy of the last `capacity` values (the MAD as the mean of the two middle sorted absolute
 * deviations, one twice when their number is odd), exactly (the same doubles): windows of 1 to 140 values, streams with many equal
 * values, with long and short moves of the sorted order, and infinities.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SortedWindow } from './rolling.js';
import { SeededRandom } from './rng.js';

function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
}

function reference(values: readonly number[]): { median: number; mad: number } {
  const byValue = (first: number, second: number) => first - second || 0;
  const sorted = [...values].sort(byValue);
  const median = medianOfSorted(sorted);
  const deviations = sorted.map((value) => Math.abs(value - median)).sort(byValue);
  // As the class computes it for any length: the mean of the two middle deviations ((x + x) / 2 when odd).
  const n = deviations.length;
  return { median, mad: (deviations[(n - 1) >> 1]! + deviations[n >> 1]!) / 2 };
}

function check(capacity: number, stream: readonly number[]): void {
  const window = new SortedWindow(capacity);
  for (let i = 0; i < stream.length; i++) {
    window.push(stream[i]!);
    const expected = reference(stream.slice(Math.max(0, i + 1 - capacity), i + 1));
    const median = window.median();
    assert.equal(median, expected.median, `capacity ${capacity}, point ${i}: median`);
    assert.equal(window.mad(median), expected.mad, `capacity ${capacity}, point ${i}: MAD`);
  }
  assert.deepEqual(window.toArray(), stream.slice(-capacity));
}

describe('SortedWindow', () => {
  test('median and MAD equal a sorted reference after every push (ties, long and short moves)', () => {
    const random = new SeededRandom(11);
    for (const capacity of [1, 2, 3, 4, 7, 16, 64, 127, 128, 140]) {
      check(capacity, Array.from({ length: 400 }, () => Math.floor(random.next() * 4)));
      check(capacity, Array.from({ length: 400 }, () => 1000 * random.nextGaussian()));
      check(capacity, Array.from({ length: 400 }, (_unused, i) => Math.round(100 * Math.sin(i / 9)) / 10 + Math.floor(random.next() * 2)));
    }
  });

  test('infinities and values near the largest doubles', () => {
    const random = new SeededRandom(12);
    const pick = [1.7e308, -1.7e308, Infinity, -Infinity, 0, 1, 1];
    for (const capacity of [5, 8, 128]) check(capacity, Array.from({ length: 300 }, () => pick[Math.floor(random.next() * pick.length)]!));
  });
});
