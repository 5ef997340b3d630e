import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlatForest } from '../../src/anomalies/detection/forest.js';
import { SeededRandom } from '../../src/anomalies/detection/rng.js';

function sample(seed: number, n: number): number[][] {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => [r.nextGaussian(), 3 * r.nextGaussian(), r.next()]);
}

describe('isolation forest (ml-isolation-forest, seeded, flattened)', () => {
  test('flattened scoring equals the library predict() exactly', () => {
    const rows = sample(1, 256);
    const { forest, library } = FlatForest.train(rows, 42);
    const probe = [...sample(2, 50), [10, 10, 10], [-5, 0, 0.5]];
    const expected = library.predict(probe);
    assert.deepEqual(probe.map((p) => forest.score(p)), expected);
  });

  test('training is deterministic for a seed and does not leave Math.random replaced', () => {
    const rows = sample(3, 256);
    const before = Math.random;
    const a = FlatForest.train(rows, 7).forest;
    const b = FlatForest.train(rows, 7).forest;
    const c = FlatForest.train(rows, 8).forest;
    assert.equal(Math.random, before);
    const probe = sample(4, 20);
    assert.deepEqual(probe.map((p) => a.score(p)), probe.map((p) => b.score(p)));
    assert.notDeepEqual(probe.map((p) => a.score(p)), probe.map((p) => c.score(p)));
  });

  test('scoreIfAbove gives the score exactly when it exceeds the threshold, and null otherwise', () => {
    const { forest } = FlatForest.train(sample(10, 256), 11);
    const probe = [...sample(11, 2000), [8, 30, 0.5], [-6, -20, 2]];
    const thresholds = [0, 0.3, forest.trainingQuantile(0.5), forest.trainingQuantile(0.95), forest.trainingQuantile(0.999), 0.99999, 1];
    let above = 0;
    for (const threshold of thresholds) {
      for (const row of probe) {
        const score = forest.score(row);
        const expected = score > threshold ? score : null;
        assert.equal(forest.scoreIfAbove(row, threshold), expected, `row ${row.join(',')} threshold ${threshold}`);
        if (expected !== null) above++;
      }
    }
    // The cases are not all on one side of the thresholds.
    assert.ok(above > 2000 && above < thresholds.length * probe.length - 2000, `${above} above`);
  });

  test('outliers score above the calibrated threshold, inliers mostly below', () => {
    const { forest } = FlatForest.train(sample(5, 256), 9);
    const thr = forest.trainingQuantile(0.95);
    assert.ok(forest.score([8, 30, 0.5]) > thr);
    const inl = sample(6, 1000).filter((p) => forest.score(p) > thr).length;
    assert.ok(inl < 150, `${inl} of 1000 inliers above the 95% threshold`);
  });
});
