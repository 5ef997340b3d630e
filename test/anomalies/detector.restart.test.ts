import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, type SeriesData } from '../../src/anomalies/detection/backtest.js';
import { SeriesDetector, type PointVerdict, type SeriesDetectorState } from '../../src/anomalies/detection/series-detector.js';
import { synthetic } from './synthetic.js';

// Tests run from the repository root (fixtures are read relative to it, whatever the output folder).
const ROOT = process.cwd();
const FIXTURES = path.join(ROOT, 'test/fixtures/nab/data');
const medium = { sensitivity: 'medium' as const };

function runAll(data: SeriesData, restartAt?: number): PointVerdict[] {
  let det = SeriesDetector.create(medium);
  const out: PointVerdict[] = [];
  for (let i = 0; i < data.values.length; i++) {
    if (i === restartAt) {
      const json = JSON.stringify(det.snapshot());
      det = SeriesDetector.restore(medium, JSON.parse(json) as SeriesDetectorState)!;
    }
    out.push(det.observe(data.times[i], data.values[i]));
  }
  return out;
}

describe('restart continuity (snapshot -> JSON -> restore)', () => {
  const nab = parseSeriesCsv(fs.readFileSync(path.join(FIXTURES, 'realKnownCause/rogue_agent_key_updown.csv'), 'utf8'));
  const cases: [string, SeriesData][] = [
    ['NAB rogue_agent_key_updown', nab],
    ['synthetic seasonal with a shift', synthetic({ n: 4032, seed: 9, daily: 20, modify: (i, b, e) => b + e + (i >= 3000 ? 8 : 0) })],
  ];
  for (const [name, data] of cases) {
    test(`${name}: identical verdicts with a restart half-way`, () => {
      const half = Math.floor(data.values.length / 2);
      const straight = runAll(data);
      const resumed = runAll(data, half);
      assert.deepEqual(resumed, straight);
      assert.ok(straight.some((v) => v.anomalous), 'the series should have at least one anomaly');
    });
  }

  test('identical verdicts with restarts at several points, including inside the warm-up, the novelty member\'s training (500 points) and a downsampling block', () => {
    const data = cases[1][1];
    const straight = runAll(data);
    for (const at of [1, 70, 149, 150, 151, 499, 500, 501, 1001, 3001]) assert.deepEqual(runAll(data, at), straight, `restart at ${at}`);
  });

  test('a fresh snapshot round-trips and the state size is bounded', () => {
    const fresh = SeriesDetector.create(medium);
    assert.deepEqual(SeriesDetector.restore(medium, JSON.parse(JSON.stringify(fresh.snapshot())))!.snapshot(), fresh.snapshot());
    const sizes: number[] = [];
    const det = SeriesDetector.create(medium);
    const data = synthetic({ n: 20_000, seed: 4, daily: 5 });
    for (let i = 0; i < data.values.length; i++) {
      det.observe(data.times[i], data.values[i]);
      if (i % 5000 === 4999) sizes.push(JSON.stringify(det.snapshot()).length);
    }
    // bounded: the state does not grow with the number of points seen
    assert.ok(Math.max(...sizes) - Math.min(...sizes) < 2000, `sizes ${sizes}`);
    // the stated bound (SeriesDetector's comment): at most ~52 KB as stored under the default (novelty) method
    assert.ok(Math.max(...sizes) < 65_536, `sizes ${sizes}`);
  });

  test('a snapshot of an earlier detector version is not restored (the series starts anew)', () => {
    const earlier = { version: 1, n: 500, lastTs: 0 } as unknown as SeriesDetectorState;
    assert.equal(SeriesDetector.restore(medium, earlier), null);
  });
});
