/**
 * The NAB DEV set through the REAL path: each CSV of test/fixtures/nab/data is POSTed to
 * /ingest/metrics as one metric with its own timestamps (5,000-point batches), the anomalies are
 * read back from /anomalies and scored with the kit's scorer (score.mjs, as a child process).
 * Fails if the NAB standard score < 50 or window F1 < 0.30. On both stores.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSeriesCsv, type SeriesData } from '../../src/anomalies/detection/backtest.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, anomalies, ingestMetrics } from './anomalies-http.js';

const NAB = path.join(process.cwd(), 'test/fixtures/nab');

function metricName(key: string): string {
  return `nab.${key.replace(/\.csv$/, '').replace(/\//g, '.').replace(/[^A-Za-z0-9_.:-]/g, '_')}`;
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`NAB DEV set through HTTP on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const keys = fs.readFileSync(path.join(NAB, 'dev.txt'), 'utf8').split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
    const data = new Map<string, SeriesData>(keys.map((key) => [key, parseSeriesCsv(fs.readFileSync(path.join(NAB, 'data', key), 'utf8'))]));

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, ...KEYS });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('NAB standard score >= 50 and window F1 >= 0.30 (medium sensitivity)', { timeout: 300_000 }, async () => {
      assert.equal(keys.length, 29);
      for (const [key, series] of data) {
        await ingestMetrics(vigil, series.values.map((value, index) => ({ name: metricName(key), value, timestamp: series.times[index]! })), 5000);
      }
      const detections: Record<string, string[]> = {};
      for (const [key, series] of data) {
        const labelOf = new Map(series.times.map((time, index) => [time, series.labels[index]!]));
        detections[key] = (await anomalies(vigil, { metric: metricName(key) })).map((row) => labelOf.get(Date.parse(row.timestamp))!).reverse();
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nab-http-'));
      try {
        const detectionsFile = path.join(dir, 'detections.json');
        const scoresFile = path.join(dir, 'scores.json');
        fs.writeFileSync(detectionsFile, JSON.stringify(detections));
        execFileSync(process.execPath, [path.join(NAB, 'score.mjs'), '--detections', detectionsFile, '--series', path.join(NAB, 'dev.txt'), '--json', scoresFile, '--quiet', '--strict']);
        const scores = JSON.parse(fs.readFileSync(scoresFile, 'utf8')) as {
          overall: { nab: { standard: { normalized: number } }; window: { f1: number; precision: number; recall: number; tp: number; fp: number; fn: number } };
        };
        const nab = scores.overall.nab.standard.normalized;
        const window = scores.overall.window;
        console.log(`HTTP path on ${name}: NAB standard ${nab.toFixed(2)}, F1 ${window.f1.toFixed(3)} (P ${window.precision.toFixed(3)}, R ${window.recall.toFixed(3)}, TP ${window.tp} FP ${window.fp} FN ${window.fn})`);
        assert.ok(nab >= 50, `NAB standard score ${nab}`);
        assert.ok(window.f1 >= 0.3, `window F1 ${window.f1}`);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
