/**
 * Runs the 29 NAB DEV series copied in test/fixtures/nab through the detector (medium sensitivity,
 * the same run loop as the backtest CLI) and scores them with the kit's scorer (score.mjs, run as a
 * child process). Fails if the NAB standard score < 50 or window F1 < 0.30.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSeriesCsv, runSeries } from '../../src/anomalies/detection/backtest.js';

// Tests run from the repository root (fixtures are read relative to it, whatever the output folder).
const ROOT = process.cwd();
const NAB = path.join(ROOT, 'test/fixtures/nab');

test('NAB DEV set: standard score >= 50 and window F1 >= 0.30 (medium)', { timeout: 120_000 }, () => {
  const keys = fs.readFileSync(path.join(NAB, 'dev.txt'), 'utf8').split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
  assert.equal(keys.length, 29);
  const detections: Record<string, string[]> = {};
  for (const key of keys) {
    const data = parseSeriesCsv(fs.readFileSync(path.join(NAB, 'data', key), 'utf8'));
    detections[key] = runSeries(data, { sensitivity: 'medium' }).map((d) => d.timestamp);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nab-'));
  try {
    const detFile = path.join(dir, 'detections.json');
    const outFile = path.join(dir, 'scores.json');
    fs.writeFileSync(detFile, JSON.stringify(detections));
    execFileSync(process.execPath, [path.join(NAB, 'score.mjs'), '--detections', detFile, '--series', path.join(NAB, 'dev.txt'), '--json', outFile, '--quiet', '--strict']);
    const res = JSON.parse(fs.readFileSync(outFile, 'utf8')) as {
      overall: { nab: { standard: { normalized: number } }; window: { f1: number; precision: number; recall: number; tp: number; fp: number; fn: number } };
    };
    const nab = res.overall.nab.standard.normalized;
    const w = res.overall.window;
    console.log(`NAB standard ${nab.toFixed(2)}, F1 ${w.f1.toFixed(3)} (P ${w.precision.toFixed(3)}, R ${w.recall.toFixed(3)}, TP ${w.tp} FP ${w.fp} FN ${w.fn})`);
    assert.ok(nab >= 50, `NAB standard score ${nab}`);
    assert.ok(w.f1 >= 0.3, `window F1 ${w.f1}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
