/**
 * Backtest CLI for the Vigil anomaly detector (no NestJS, no database).
 *
 *   node dist/src/anomalies/anomalies.backtest.js [--sensitivity low|medium|high] [--detections out.json]
 *        [--root DIR] [--quiet] file.csv ...
 *
 * Runs the same detector code as the service (src/anomalies/detection) over `timestamp,value` CSVs
 * (header line; NAB timestamps such as `2014-07-01 00:00:00` are UTC), retraining every
 * TRAIN_EVERY_POINTS points, and prints each anomaly (timestamp, value, expected, score, severity,
 * methods) per file. `--detections out.json` writes them in the NAB scorer's format:
 * {"<category>/<series>.csv": ["<timestamp as in the CSV>", ...]}; the key is the path relative to
 * --root, or by default the path after a `data/` folder (else the file name).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, runSeries, seriesKey } from './detection/backtest.js';
import type { Sensitivity } from './detection/series-detector.js';

function usage(code: number): never {
  console.log('usage: anomalies.backtest [--sensitivity low|medium|high] [--detections out.json] [--root DIR] [--quiet] file.csv ...');
  process.exit(code);
}

function main(argv: string[]): void {
  let sensitivity: Sensitivity = 'medium';
  let detectionsFile: string | undefined;
  let root: string | undefined;
  let quiet = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') usage(0);
    else if (a === '--sensitivity') {
      const v = argv[++i];
      if (v !== 'low' && v !== 'medium' && v !== 'high') usage(2);
      sensitivity = v;
    } else if (a === '--detections') detectionsFile = argv[++i];
    else if (a === '--root') root = argv[++i];
    else if (a === '--quiet') quiet = true;
    else if (a.startsWith('--')) usage(2);
    else files.push(a);
  }
  if (files.length === 0) usage(2);

  const out: Record<string, string[]> = {};
  let total = 0;
  let points = 0;
  const t0 = performance.now();
  for (const file of files) {
    const data = parseSeriesCsv(fs.readFileSync(file, 'utf8'));
    const key = seriesKey(file, root, (from, to) => path.relative(from, to));
    const found = runSeries(data, { sensitivity });
    points += data.values.length;
    total += found.length;
    out[key] = found.map((d) => d.timestamp);
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
  console.log(`${files.length} file(s), ${points} points, ${total} anomalies, sensitivity=${sensitivity}, ${secs.toFixed(1)} s`);
  if (detectionsFile) {
    fs.writeFileSync(detectionsFile, `${JSON.stringify(out, null, 1)}\n`);
    console.log(`detections written to ${detectionsFile}`);
  }
}

main(process.argv.slice(2));
