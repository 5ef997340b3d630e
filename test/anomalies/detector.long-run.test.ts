import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesDetector } from '../../src/anomalies/detection/series-detector.js';
import { synthetic } from './synthetic.js';

// Speed is measured in bench/anomalies.bench.ts (no timed assertions in tests). This checks that a
// long run stays well-behaved: every point is modelled and verdicts stay in range.
test('observe() over 60,000 points: every point modelled, scores within [0, 1]', () => {
  const series = synthetic({ n: 60_000, seed: 77, daily: 10 });
  const detector = SeriesDetector.create({ sensitivity: 'medium' });
  for (let index = 0; index < series.values.length; index++) {
    const verdict = detector.observe(series.times[index], series.values[index]);
    assert.ok(verdict.score >= 0 && verdict.score <= 1 && Number.isFinite(verdict.expected));
  }
  assert.equal(detector.pointsSeen, series.values.length);
});
