/**
 * Runs the 29 NAB DEV series copied in test/fixtures/nab through the detector (medium sensitivity,
 * the same run loop as the backtest CLI) and scores them with the kit's scorer (score.mjs, run as a
 * child process). Fails if the NAB standard score < 50 or window F1 < 0.30.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSeriesCsv, runSeries } from '../../src/anomalies/detection/backtest.js';
import { describeScore, nabSeriesCsv, nabSeriesKeys, scoreNab } from './nab-scoring.js';

test('NAB DEV set: standard score >= 50 and window F1 >= 0.30 (medium)', { timeout: 120_000 }, () => {
  const keys = nabSeriesKeys();
  assert.equal(keys.length, 29);
  const detections: Record<string, string[]> = {};
  for (const key of keys) {
    detections[key] = runSeries(parseSeriesCsv(nabSeriesCsv(key)), { sensitivity: 'medium' }).map((detection) => detection.timestamp);
  }
  const score = scoreNab(detections);
  console.log(describeScore(score));
  assert.ok(score.standard >= 50, `NAB standard score ${score.standard}`);
  assert.ok(score.window.f1 >= 0.3, `window F1 ${score.window.f1}`);
});
