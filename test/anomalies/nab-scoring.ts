import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Tests run from the repository root (fixtures are read relative to it, whatever the output folder).
export const NAB = path.join(process.cwd(), 'test/fixtures/nab');

/** The DEV series keys listed in dev.txt (`<category>/<series>.csv`). */
export function nabSeriesKeys(): string[] {
  return fs.readFileSync(path.join(NAB, 'dev.txt'), 'utf8').split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
}

export function nabSeriesCsv(key: string): string {
  return fs.readFileSync(path.join(NAB, 'data', key), 'utf8');
}

export interface NabScore {
  standard: number;
  lowFalsePositives: number;
  lowFalseNegatives: number;
  window: { f1: number; precision: number; recall: number; tp: number; fp: number; fn: number };
}

/** Scores detections (`{key: [timestamp as in the CSV]}`) with the kit's scorer, run as a child process. */
export function scoreNab(detections: Record<string, string[]>): NabScore {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-nab-'));
  try {
    const detectionsFile = path.join(dir, 'detections.json');
    const scoresFile = path.join(dir, 'scores.json');
    fs.writeFileSync(detectionsFile, JSON.stringify(detections));
    execFileSync(process.execPath, [path.join(NAB, 'score.mjs'), '--detections', detectionsFile, '--series', path.join(NAB, 'dev.txt'), '--json', scoresFile, '--quiet', '--strict']);
    const scores = JSON.parse(fs.readFileSync(scoresFile, 'utf8')) as {
      overall: { nab: Record<'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate', { normalized: number }>; window: NabScore['window'] };
    };
    const { nab, window } = scores.overall;
    return { standard: nab.standard.normalized, lowFalsePositives: nab.reward_low_FP_rate.normalized, lowFalseNegatives: nab.reward_low_FN_rate.normalized, window };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function describeScore(score: NabScore): string {
  const window = score.window;
  return `NAB standard ${score.standard.toFixed(2)}, F1 ${window.f1.toFixed(3)} (P ${window.precision.toFixed(3)}, R ${window.recall.toFixed(3)}, TP ${window.tp} FP ${window.fp} FN ${window.fn})`;
}
