/**
 * Runs the 29 NAB DEV series copied in test/fixtures/nab through the detector (medium sensitivity,
 * the same run loop as the backtest CLI), scores them with our port of the NAB rules
 * (detection/nab-scoring.ts) and with the kit's scorer (score.mjs, run as a child process): both must
 * agree, on the detector's detections and on seeded random ones (which put false positives at every
 * distance from the windows). Fails if the NAB standard score < 68 or window F1 < 0.55.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, runSeries, windowRows, type SeriesData } from '../../src/anomalies/detection/backtest.js';
import { emptyTally, nabResult, tallySeries, type NabResult } from '../../src/anomalies/detection/nab-scoring.js';
import { SeededRandom } from '../../src/anomalies/detection/rng.js';
import { NAB, describeScore, nabSeriesCsv, nabSeriesKeys, scoreNab, type NabScore } from './nab-scoring.js';

const keys = nabSeriesKeys();
const labels = JSON.parse(fs.readFileSync(path.join(NAB, 'data/labels/combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>;
const series = new Map<string, SeriesData>(keys.map((key) => [key, parseSeriesCsv(nabSeriesCsv(key))]));

/** Scores `{key: [row, ...]}` with our scorer. */
function ours(rows: Map<string, number[]>): NabResult {
  const tally = emptyTally();
  for (const [key, data] of series) tallySeries(tally, data.values.length, windowRows(data, labels[key] ?? []), rows.get(key) ?? []);
  return nabResult(tally);
}

/** Scores the same detections with score.mjs (as timestamps). */
function kit(rows: Map<string, number[]>): NabScore {
  const detections: Record<string, string[]> = {};
  for (const [key, data] of series) detections[key] = (rows.get(key) ?? []).map((row) => data.labels[row]!);
  return scoreNab(detections);
}

function assertAgree(mine: NabResult, theirs: NabScore): void {
  assert.ok(Math.abs(mine.standard - theirs.standard) < 1e-9, `standard ${mine.standard} vs ${theirs.standard}`);
  assert.ok(Math.abs(mine.lowFalsePositives - theirs.lowFalsePositives) < 1e-9, `low FP ${mine.lowFalsePositives} vs ${theirs.lowFalsePositives}`);
  assert.ok(Math.abs(mine.lowFalseNegatives - theirs.lowFalseNegatives) < 1e-9, `low FN ${mine.lowFalseNegatives} vs ${theirs.lowFalseNegatives}`);
  const { tally } = mine;
  assert.deepEqual([tally.truePositives, tally.falsePositives, tally.falseNegatives], [theirs.window.tp, theirs.window.fp, theirs.window.fn]);
  assert.equal(mine.f1, theirs.window.f1);
  assert.equal(mine.precision, theirs.window.precision);
  assert.equal(mine.recall, theirs.window.recall);
}

describe('NAB DEV set', () => {
  test('the detector: standard >= 68 and window F1 >= 0.55 (medium); our scorer agrees with score.mjs', { timeout: 120_000 }, () => {
    assert.equal(keys.length, 29);
    const rows = new Map<string, number[]>();
    for (const [key, data] of series) rows.set(key, runSeries(data, { sensitivity: 'medium' }).map((detection) => detection.index));
    const theirs = kit(rows);
    console.log(describeScore(theirs));
    assertAgree(ours(rows), theirs);
    assert.ok(theirs.standard >= 68, `NAB standard score ${theirs.standard}`);
    assert.ok(theirs.window.f1 >= 0.55, `window F1 ${theirs.window.f1}`);
  });

  test('sensitivity moves precision against recall monotonically: low <= medium <= high in recall, the reverse in precision', { timeout: 120_000 }, () => {
    const scored = (['low', 'medium', 'high'] as const).map((sensitivity) => {
      const rows = new Map<string, number[]>();
      for (const [key, data] of series) rows.set(key, runSeries(data, { sensitivity }).map((detection) => detection.index));
      return ours(rows);
    });
    const [low, medium, high] = scored as [NabResult, NabResult, NabResult];
    assert.ok(low.recall! <= medium.recall! && medium.recall! <= high.recall!, `recall ${low.recall} ${medium.recall} ${high.recall}`);
    assert.ok(low.precision! >= medium.precision! && medium.precision! >= high.precision!, `precision ${low.precision} ${medium.precision} ${high.precision}`);
    assert.ok(low.tally.detections < medium.tally.detections && medium.tally.detections < high.tally.detections);
  });

  test('seeded random detections (in probation, in windows, just after and far from them): our scorer agrees with score.mjs', { timeout: 120_000 }, () => {
    const random = new SeededRandom(23);
    const rows = new Map<string, number[]>();
    for (const [key, data] of series) {
      const picked: number[] = [];
      for (let index = 0; index < 40; index++) picked.push(Math.floor(random.next() * data.values.length));
      for (const [start, end] of windowRows(data, labels[key] ?? [])) picked.push(start, end, end + 1, end + 5, Math.floor((start + end) / 2));
      rows.set(key, picked.filter((row) => row < data.values.length));
    }
    assertAgree(ours(rows), kit(rows));
  });

  test('a hand-worked series: one window detected at its first row, one missed, one false positive far away', () => {
    // 1000 rows: probation 150. Window [200, 209] hit at 200 (credit 1), window [500, 509] missed (-1),
    // a detection at 900 (more than 3 widths after the last window: -0.11), one at 100 (probation: ignored).
    const result = nabResult(tallySeries(emptyTally(), 1000, [[500, 509], [200, 209]], [900, 200, 100, 200]));
    assert.deepEqual([result.tally.truePositives, result.tally.falsePositives, result.tally.falseNegatives, result.tally.detections], [1, 1, 1, 2]);
    const raw = 1 - 1 - 0.11;
    assert.ok(Math.abs(result.tally.profiles.standard.raw - raw) < 1e-12);
    assert.ok(Math.abs(result.standard - (100 * (raw + 2)) / 4) < 1e-12);
    assert.ok(Math.abs(result.lowFalsePositives - (100 * (1 - 1 - 0.22 + 2)) / 4) < 1e-12);
    assert.ok(Math.abs(result.lowFalseNegatives - (100 * (1 - 2 - 0.11 + 4)) / 6) < 1e-12);
    assert.equal(result.f1, 0.5);
  });
});
