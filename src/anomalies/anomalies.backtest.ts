/**
 * Backtest CLI for the Vigil anomaly detector (no NestJS, no database).
 *
 *   node dist/src/anomalies/anomalies.backtest.js [--sensitivity low|medium|high] [--method novelty|likelihood|isolation_forest|ensemble]
 *        [--detections out.json] [--labels windows.json] [--root DIR] [--quiet] file.csv ...
 *
 * Runs the same detector code as the service (src/anomalies/detection) over `timestamp,value` CSVs
 * (header line; NAB timestamps such as `2014-07-01 00:00:00` are UTC), every point in order, and prints
 * each anomaly (timestamp, value, expected, score, severity, methods) per file. `--detections out.json`
 * writes them in the NAB scorer's format: {"<category>/<series>.csv": ["<timestamp as in the CSV>", ...]};
 * the key is the path relative to --root, or by default the path after a `data/` folder (else the file
 * name). `--labels windows.json` ({"<key>": [["<start>", "<end>"], ...]}, both ends inclusive, NAB's
 * combined_windows.json format) scores the run with the NAB rules (nab-scoring.ts): the standard,
 * low-FP and low-FN scores and window-level precision, recall and F1. A file without an entry in the
 * labels is scored as a series without anomalies (and named on the output).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, runSeries, seriesKey, windowRows } from './detection/backtest.js';
import { describeNabResult, emptyTally, nabResult, tallySeries } from './detection/nab-scoring.js';
import { DEFAULT_METHOD, DETECTOR_METHODS, type DetectorMethod, type Sensitivity } from './detection/series-detector.js';

function usage(code: number): never {
  console.log('usage: anomalies.backtest [--sensitivity low|medium|high] [--method novelty|likelihood|isolation_forest|ensemble] [--detections out.json] [--labels windows.json] [--root DIR] [--quiet] file.csv ...');
  process.exit(code);
}

/** A labels file's key as the scorer reads it: forward slashes, without a leading `./` or `data/`. */
function labelKey(key: string): string {
  let normalised = key.trim().replace(/\\/g, '/');
  while (normalised.startsWith('./')) normalised = normalised.slice(2);
  return normalised.startsWith('data/') ? normalised.slice(5) : normalised;
}

function readLabels(file: string): Map<string, Array<[string, string]>> {
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, Array<[string, string]>>;
  return new Map(Object.entries(parsed).map(([key, windows]) => [labelKey(key), windows]));
}

function main(argv: string[]): void {
  let sensitivity: Sensitivity = 'medium';
  let method: DetectorMethod = DEFAULT_METHOD;
  let detectionsFile: string | undefined;
  let labelsFile: string | undefined;
  let root: string | undefined;
  let quiet = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') usage(0);
    else if (a === '--sensitivity') {
      const v = argv[++i];
      if (v !== 'low' && v !== 'medium' && v !== 'high') usage(2);
      sensitivity = v;
    } else if (a === '--method') {
      const v = argv[++i] as DetectorMethod;
      if (!DETECTOR_METHODS.includes(v)) usage(2);
      method = v;
    } else if (a === '--detections') detectionsFile = argv[++i];
    else if (a === '--labels') labelsFile = argv[++i];
    else if (a === '--root') root = argv[++i];
    else if (a === '--quiet') quiet = true;
    else if (a.startsWith('--')) usage(2);
    else files.push(a);
  }
  if (files.length === 0) usage(2);
  const labels = labelsFile === undefined ? undefined : readLabels(labelsFile);
  const tally = emptyTally();
  const unlabelled: string[] = [];

  const out: Record<string, string[]> = {};
  let total = 0;
  let points = 0;
  const t0 = performance.now();
  for (const file of files) {
    const data = parseSeriesCsv(fs.readFileSync(file, 'utf8'));
    const key = seriesKey(file, root, (from, to) => path.relative(from, to));
    const found = runSeries(data, { sensitivity, method });
    points += data.values.length;
    total += found.length;
    out[key] = found.map((d) => d.timestamp);
    if (labels) {
      const windows = labels.get(labelKey(key));
      if (windows === undefined) unlabelled.push(key);
      tallySeries(tally, data.values.length, windowRows(data, windows ?? []), found.map((d) => d.index));
    }
    if (!quiet) {
      console.log(`${key}: ${data.values.length} points, ${found.length} anomalies`);
      for (const d of found) {
        const v = d.verdict;
        console.log(
          `  ${d.timestamp}  value=${d.value}  expected=${Number(v.expected.toPrecision(6))}  score=${v.score.toFixed(3)}  ${v.severity}  [${v.methods.join(',')}]`,
        );
      }
    }
  }
  const secs = (performance.now() - t0) / 1000;
  console.log(`${files.length} file(s), ${points} points, ${total} anomalies, sensitivity=${sensitivity}, method=${method}, ${secs.toFixed(1)} s`);
  if (labels) {
    if (unlabelled.length > 0) console.log(`not in the labels (scored as without anomalies): ${unlabelled.join(', ')}`);
    console.log(describeNabResult(nabResult(tally)));
  }
  if (detectionsFile) {
    fs.writeFileSync(detectionsFile, `${JSON.stringify(out, null, 1)}\n`);
    console.log(`detections written to ${detectionsFile}`);
  }
}

main(process.argv.slice(2));
