import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesDetector } from '../../src/anomalies/detection/series-detector.js';
import { synthetic } from './synthetic.js';

// Speed is measured in bench/anomalies.bench.ts (no timed assertions in tests). This checks that a
// long run stays well-behaved: every point is modelled and verdicts stay in range.
test('observe() over 60,000 points with training: every point modelled, scores within [0, 1]', () => {
  const s = synthetic({ n: 60_000, seed: 77, daily: 10 });
  const det = SeriesDetector.create({ sensitivity: 'medium' });
  for (let i = 0; i < s.values.length; i++) {
    if (det.isTrainingDue()) det.train();
    const verdict = det.observe(s.times[i], s.values[i]);
    assert.ok(verdict.score >= 0 && verdict.score <= 1 && Number.isFinite(verdict.expected));
  }
  assert.equal(det.pointsSeen, s.values.length);
});
