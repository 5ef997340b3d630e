/**
 * The NAB DEV set through the REAL path: each CSV of test/fixtures/nab/data is POSTed to
 * /ingest/metrics as one metric with its own timestamps (5,000-point batches on SQLite, 1,237 on
 * Postgres), the anomalies are read back from /anomalies and scored with the kit's scorer (score.mjs,
 * as a child process). The service must report exactly the anomalies the backtest CLI's run loop
 * finds in the same series (verdicts depend on the points alone, not on batching or timing), and
 * score NAB standard >= 59 and window F1 >= 0.46. On both stores.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSeriesCsv, runSeries, type SeriesData } from '../../src/anomalies/detection/backtest.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, anomalies, ingestMetrics } from './anomalies-http.js';
import { describeScore, nabSeriesCsv, nabSeriesKeys, scoreNab } from './nab-scoring.js';

function metricName(key: string): string {
  return `nab.${key.replace(/\.csv$/, '').replace(/\//g, '.').replace(/[^A-Za-z0-9_.:-]/g, '_')}`;
}

for (const { name, make } of BOTH_DATABASES) {
  const batch = name === 'sqlite' ? 5000 : 1237;
  describe(`NAB DEV set through HTTP on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const keys = nabSeriesKeys();
    const data = new Map<string, SeriesData>(keys.map((key) => [key, parseSeriesCsv(nabSeriesCsv(key))]));

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, ...KEYS });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test(`exactly the backtest's anomalies, NAB standard score >= 59 and window F1 >= 0.46 (medium sensitivity, ${batch}-point batches)`, { timeout: 300_000 }, async () => {
      assert.equal(keys.length, 29);
      for (const [key, series] of data) {
        await ingestMetrics(vigil, series.values.map((value, index) => ({ name: metricName(key), value, timestamp: series.times[index]! })), batch);
      }
      const detections: Record<string, string[]> = {};
      for (const [key, series] of data) {
        const labelOf = new Map(series.times.map((time, index) => [time, series.labels[index]!]));
        detections[key] = (await anomalies(vigil, { metric: metricName(key) })).map((row) => labelOf.get(Date.parse(row.timestamp))!).reverse();
      }
      const backtest: Record<string, string[]> = {};
      for (const [key, series] of data) backtest[key] = runSeries(series, { sensitivity: 'medium' }).map((detection) => detection.timestamp);
      assert.deepEqual(detections, backtest);
      const score = scoreNab(detections);
      console.log(`HTTP path on ${name}: ${describeScore(score)}`);
      assert.ok(score.standard >= 59, `NAB standard score ${score.standard}`);
      assert.ok(score.window.f1 >= 0.46, `window F1 ${score.window.f1}`);
    });
  });
}
