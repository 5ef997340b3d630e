import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { explicitHistogram, exponentialHistogram } from './otlp-histograms.decode.js';
import { OtlpShapeError } from './otlp.values.js';

describe('OTLP histogram points', () => {
  test('explicit bounds are kept; bucket counts, count and sum read from OTLP/JSON strings', () => {
    assert.deepEqual(explicitHistogram({ count: '6', sum: 21.5, explicitBounds: [1, 5], bucketCounts: ['1', '3', '2'], min: 0.5, max: 9 }), {
      count: 6,
      sum: 21.5,
      bounds: [1, 5],
      counts: [1, 3, 2],
      min: 0.5,
      max: 9,
    });
  });

  test('bounds and counts that do not match, or bounds not ascending, are refused', () => {
    assert.throws(() => explicitHistogram({ count: 1, explicitBounds: [1, 5], bucketCounts: [1] }), OtlpShapeError);
    assert.throws(() => explicitHistogram({ count: 1, explicitBounds: [5, 1], bucketCounts: [0, 1, 0] }), OtlpShapeError);
  });

  test('exponential buckets become their edges: scale 0 is base 2; negatives mirrored; the zero bucket between', () => {
    // Positive offset 1: buckets (2, 4], (4, 8]; negative offset 0: [-2, -1); zero bucket [-0, 0].
    const values = exponentialHistogram({ count: 10, sum: 30, scale: 0, zeroCount: 1, positive: { offset: 1, bucketCounts: [4, 3] }, negative: { offset: 0, bucketCounts: [2] } });
    assert.deepEqual(values, { count: 10, sum: 30, bounds: [-1, 0, 4, 8], counts: [2, 1, 4, 3, 0] });
  });

  test('exponential scale 1 is base √2', () => {
    const values = exponentialHistogram({ count: 2, sum: 3, scale: 1, positive: { offset: 0, bucketCounts: [1, 1] } });
    assert.deepEqual(values.bounds, [0, Math.SQRT2, 2.0000000000000004]);
    assert.deepEqual(values.counts, [0, 1, 1, 0]);
  });
});
