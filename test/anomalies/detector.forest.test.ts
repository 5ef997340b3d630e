/**
 * The isolation-forest member (isolation-forest.ts) under the 'isolation_forest' and 'ensemble' methods:
 * trained at fixed point counts with seeded randomness, so verdicts depend on the points alone, a restart
 * (snapshot -> JSON -> restore, which retrains from the stored training set) continues bit for bit, and
 * the state stays bounded.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesDetector, type DetectorMethod, type PointVerdict, type SeriesDetectorState } from '../../src/anomalies/detection/series-detector.js';
import { synthetic } from './synthetic.js';

function runAll(method: DetectorMethod, data: { times: number[]; values: number[] }, restartAt: number[] = []): PointVerdict[] {
  const settings = { sensitivity: 'medium' as const, method };
  let detector = SeriesDetector.create(settings);
  const out: PointVerdict[] = [];
  for (let i = 0; i < data.values.length; i++) {
    if (restartAt.includes(i)) detector = SeriesDetector.restore(settings, JSON.parse(JSON.stringify(detector.snapshot())) as SeriesDetectorState)!;
    out.push(detector.observe(data.times[i]!, data.values[i]!));
  }
  return out;
}

// A level shift of 12 sigma at 3,000 and a spike of 15 sigma at 4,500 on a daily sine.
const data = synthetic({ n: 5000, seed: 21, daily: 10, modify: (i, base, noise) => base + noise + (i >= 3000 ? 12 : 0) + (i === 4500 ? 15 : 0) });

describe('isolation-forest member', () => {
  for (const method of ['isolation_forest', 'ensemble'] as DetectorMethod[]) {
    test(`${method}: the same verdicts with restarts before, at and after each training (1,024-point multiples)`, () => {
      const straight = runAll(method, data);
      assert.deepEqual(runAll(method, data, [500, 1023, 1024, 1025, 2048, 3001, 4097]), straight);
      assert.deepEqual(runAll(method, data), straight, 'a second fresh run');
    });
  }

  test('isolation_forest: the level shift and the spike are found, the 3,000 points before them give no anomaly', () => {
    const verdicts = runAll('isolation_forest', data);
    const rows = verdicts.flatMap((verdict, row) => (verdict.anomalous ? [row] : []));
    assert.deepEqual(rows.filter((row) => row < 3000), []);
    assert.ok(rows.some((row) => row >= 3000 && row < 3100), `rows ${rows}`);
    assert.ok(verdicts.filter((verdict) => verdict.anomalous).every((verdict) => verdict.methods.includes('isolation_forest')));
  });

  test('training leaves Math.random as it was', () => {
    const before = Math.random;
    runAll('isolation_forest', synthetic({ n: 1100, seed: 3 }));
    assert.equal(Math.random, before);
  });

  test('ensemble state as stored stays under 64 KiB and does not grow with the points seen', () => {
    const detector = SeriesDetector.create({ sensitivity: 'medium', method: 'ensemble' });
    const long = synthetic({ n: 12_000, seed: 4, daily: 5 });
    const sizes: number[] = [];
    for (let i = 0; i < long.values.length; i++) {
      detector.observe(long.times[i]!, long.values[i]!);
      if (i % 4000 === 3999) sizes.push(JSON.stringify(detector.snapshot()).length);
    }
    assert.ok(Math.max(...sizes) < 65_536, `sizes ${sizes}`);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) < 3000, `sizes ${sizes}`);
  });
});
