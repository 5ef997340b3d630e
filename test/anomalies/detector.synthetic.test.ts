import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeries } from '../../src/anomalies/detection/backtest.js';
import { SeriesDetector, TUNING } from '../../src/anomalies/detection/series-detector.js';
import { SeededRandom } from '../../src/anomalies/detection/rng.js';
import { synthetic, STEP_MS, T0 } from './synthetic.js';

const medium = { sensitivity: 'medium' as const };
const CHANGE = 3000;

function indices(found: { index: number }[]): number[] {
  return found.map((d) => d.index);
}

describe('synthetic changes (seeded, 5-minute points, change at point 3000)', () => {
  test('a single spike of 15 sigma is exactly one anomaly, at the spike', () => {
    const s = synthetic({ n: 4000, seed: 11, modify: (i, b, e) => b + e + (i === CHANGE ? 15 : 0) });
    const found = runSeries(s, medium);
    assert.deepEqual(indices(found), [CHANGE]);
    const v = found[0].verdict;
    assert.ok(v.methods.includes('robust_zscore') && v.methods.includes('likelihood'), v.methods.join(','));
    assert.ok(Math.abs(v.expected - 100) < 1, `expected ${v.expected}`);
    assert.ok(v.score > 0 && v.score <= 1);
  });

  test('a level shift of +8 sigma is exactly one anomaly within 16 points', () => {
    const s = synthetic({ n: 4000, seed: 12, modify: (i, b, e) => b + e + (i >= CHANGE ? 8 : 0) });
    const found = indices(runSeries(s, medium));
    assert.equal(found.length, 1, `anomalies at ${found}`);
    assert.ok(found[0] >= CHANGE && found[0] < CHANGE + 16, `anomaly at ${found[0]}`);
  });

  test('a variance change (sigma x5) is exactly one anomaly within 32 points', () => {
    const s = synthetic({ n: 4000, seed: 13, modify: (i, b, e) => b + e * (i >= CHANGE ? 5 : 1) });
    const found = indices(runSeries(s, medium));
    assert.equal(found.length, 1, `anomalies at ${found}`);
    assert.ok(found[0] >= CHANGE && found[0] < CHANGE + 32, `anomaly at ${found[0]}`);
  });

  test('a daily pattern alone is not anomalous (4 weeks)', () => {
    const s = synthetic({ n: 8064, seed: 16, daily: 20 });
    assert.deepEqual(indices(runSeries(s, medium)), []);
  });

  test('a seasonal break (the daily cycle flattens for one day) is one anomaly within 48 points', () => {
    const start = 2880; // day 10
    const end = start + 288;
    const s = synthetic({ n: 4032, seed: 14, daily: 20, modify: (i, b, e) => (i >= start && i < end ? 100 + e : b + e) });
    const found = runSeries(s, medium);
    const during = indices(found).filter((i) => i >= start && i < end);
    assert.equal(indices(found).filter((i) => i < start).length, 0, `early anomalies ${indices(found)}`);
    assert.equal(during.length, 1, `anomalies ${indices(found)}`);
    assert.ok(during[0] < start + 48, `anomaly at ${during[0]}`);
    assert.ok(found[0].verdict.methods.includes('seasonal'), found[0].verdict.methods.join(','));
    // the return of the cycle after the break may be reported once, not more
    assert.ok(indices(found).filter((i) => i >= end).length <= 1);
  });

  test('a level shift on a seasonal series is one anomaly within 16 points', () => {
    const s = synthetic({ n: 4032, seed: 17, daily: 20, modify: (i, b, e) => b + e + (i >= CHANGE ? 8 : 0) });
    const found = indices(runSeries(s, medium));
    assert.equal(found.length, 1, `anomalies at ${found}`);
    assert.ok(found[0] >= CHANGE && found[0] < CHANGE + 16, `anomaly at ${found[0]}`);
  });
});

/** The robust z of values[row] against the BASELINE_WINDOW (128) values before it: |x - median| / (1.4826 MAD). */
function robustZ(values: readonly number[], row: number): number {
  const middle = (sorted: number[]): number => (sorted[(sorted.length - 1) >> 1]! + sorted[sorted.length >> 1]!) / 2;
  const window = values.slice(row - 128, row);
  const median = middle([...window].sort((a, b) => a - b));
  const mad = middle(window.map((value) => Math.abs(value - median)).sort((a, b) => a - b));
  return Math.abs(values[row]! - median) / (1.4826 * mad);
}

describe('the likelihood counts at points far from their expected value (likelihoodMinZ, likelihoodRun)', () => {
  const likelihood = { sensitivity: 'medium' as const, method: 'likelihood' as const };
  const ungated = { ...TUNING, likelihoodMinZ: 0 };

  test('a burst of 3 points at +7 sigma: the tail crosses epsilon, but no point is 10 sigma away and the run is short: not reported', () => {
    const s = synthetic({ n: 4000, seed: 11, modify: (i, b, e) => b + e + (i >= CHANGE && i < CHANGE + 3 ? 7 : 0) });
    for (let row = CHANGE; row < CHANGE + 3; row++) {
      const z = robustZ(s.values, row);
      assert.ok(z > TUNING.likelihoodRun.z && z < TUNING.likelihoodMinZ - 0.5, `z ${z} at ${row}`);
    }
    assert.ok(TUNING.likelihoodRun.points > 3);
    assert.deepEqual(indices(runSeries(s, likelihood, { tuning: ungated })), [CHANGE + 1]);
    assert.deepEqual(indices(runSeries(s, likelihood)), []);
  });

  test('a spike past 10 sigma is reported with or without the gate', () => {
    const s = synthetic({ n: 4000, seed: 11, modify: (i, b, e) => b + e + (i === CHANGE ? 12 : 0) });
    assert.ok(robustZ(s.values, CHANGE) > TUNING.likelihoodMinZ + 0.5);
    assert.deepEqual(indices(runSeries(s, likelihood)), [CHANGE]);
    assert.deepEqual(indices(runSeries(s, likelihood, { tuning: ungated })), [CHANGE]);
  });

  test('a sustained shift of +6 sigma (below 10 sigma) is reported once a run of points likelihoodRun.z sigmas away is long enough, as without the gate', () => {
    const s = synthetic({ n: 4000, seed: 11, modify: (i, b, e) => b + e + (i >= CHANGE && i < CHANGE + 30 ? 6 : 0) });
    const found = indices(runSeries(s, likelihood));
    assert.deepEqual(found, indices(runSeries(s, likelihood, { tuning: ungated })));
    assert.equal(found.length, 1, `anomalies at ${found}`);
    assert.ok(found[0]! >= CHANGE + TUNING.likelihoodRun.points - 1 && found[0]! < CHANGE + 16, `anomaly at ${found[0]}`);
    for (let row = CHANGE; row <= found[0]!; row++) assert.ok(robustZ(s.values, row) < TUNING.likelihoodMinZ, `z at ${row}`);
  });
});

describe('false-alarm bound', () => {
  test('stationary Gaussian noise: at most 1 anomaly per 10,000 points (50,000 points, medium)', () => {
    const rng = new SeededRandom(20240601);
    const det = SeriesDetector.create(medium);
    let anomalies = 0;
    for (let i = 0; i < 50_000; i++) {
      if (det.observe(T0 + i * STEP_MS, 50 + 3 * rng.nextGaussian()).anomalous) anomalies++;
    }
    assert.ok(anomalies <= 5, `${anomalies} anomalies in 50,000 noise points`);
  });
});

describe('sensitivity and edge cases', () => {
  test('warm-up: nothing is anomalous during the first points, even a huge spike', () => {
    const s = synthetic({ n: 200, seed: 3, modify: (i, b, e) => b + e + (i === 50 ? 1000 : 0) });
    assert.deepEqual(indices(runSeries(s, medium)), []);
  });

  test('sensitivity is monotone on a moderate shift: high finds at least what medium finds, medium at least low', () => {
    const s = synthetic({ n: 4000, seed: 21, modify: (i, b, e) => b + e + (i >= CHANGE ? 4 : 0) });
    const n = (sensitivity: 'low' | 'medium' | 'high') => runSeries(s, { sensitivity }).filter((d) => d.index >= CHANGE && d.index < CHANGE + 100).length;
    assert.ok(n('high') >= n('medium') && n('medium') >= n('low'));
    assert.equal(n('high'), 1);
  });

  test('out-of-order and non-finite points are ignored by the model', () => {
    const s = synthetic({ n: 1200, seed: 5 });
    const a = SeriesDetector.create(medium);
    const b = SeriesDetector.create(medium);
    for (let i = 0; i < s.values.length; i++) {
      const va = a.observe(s.times[i], s.values[i]);
      if (i % 100 === 50) {
        const old = b.observe(s.times[i] - 10 * STEP_MS, 1e9); // older than the last point
        assert.equal(old.anomalous, false);
        assert.equal(b.observe(s.times[i], Number.NaN).anomalous, false);
      }
      const vb = b.observe(s.times[i], s.values[i]);
      assert.deepEqual(vb, va);
    }
    assert.equal(a.pointsSeen, s.values.length);
    assert.equal(b.pointsSeen, s.values.length);
  });

  test('the detector is ready (past its warm-up) after exactly TUNING.warmupPoints points', () => {
    const det = SeriesDetector.create(medium);
    for (let i = 0; i < TUNING.warmupPoints; i++) {
      assert.equal(det.ready, false);
      det.observe(T0 + i * STEP_MS, i % 7);
    }
    assert.equal(det.ready, true);
  });
});
