import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rebucket } from './histogram-buckets.js';

test('rebucket: an exponential histogram at a lower scale takes the counts exactly, edges equal within rounding', () => {
  // Scale 1 (base √2) edges √2, 2, 2√2, 4 onto scale 0 (base 2) edges 2, 4.
  const from = [Math.SQRT2, Math.SQRT2 ** 2, Math.SQRT2 ** 3, Math.SQRT2 ** 4];
  assert.deepEqual(rebucket([1, 2, 3, 4, 5], from, [2, 4]), [3, 7, 5]);
});

test('rebucket: onto a subset of the bounds, and onto no bounds at all', () => {
  assert.deepEqual(rebucket([1, 2, 3, 4], [10, 50, 100], [50]), [3, 7]);
  assert.deepEqual(rebucket([1, 2, 3], [1, 2], []), [6]);
});
