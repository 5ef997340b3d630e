/**
 * Backtest helpers shared by the CLI (src/anomalies/anomalies.backtest.ts) and the tests:
 * CSV parsing, label windows and the run loop (one SeriesDetector per series, every point in order,
 * exactly as the service's detection thread runs it).
 */
import { SeriesDetector, type DetectorSettings, type DetectorTuning, type PointVerdict } from './series-detector.js';

export interface SeriesData {
  /** Timestamps exactly as written in the CSV. */
  labels: string[];
  /** Epoch ms. */
  times: number[];
  values: number[];
}

/**
 * Parses epoch ms from "2014-07-01 00:00:00" (UTC, optional fraction), ISO 8601 (with or without a
 * zone; without one it is UTC), or a plain number (epoch ms). Returns NaN if unparseable.
 */
export function parseTimestamp(text: string): number {
  const s = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (m) return Date.parse(`${m[1]}T${m[2]}${m[3] ?? 'Z'}`);
  return Date.parse(s);
}

/** Parses `timestamp,value` CSV text with a header line. Blank lines are skipped; CRLF is fine. */
export function parseSeriesCsv(text: string): SeriesData {
  const lines = text.split(/\r?\n/);
  const labels: string[] = [];
  const times: number[] = [];
  const values: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const comma = line.indexOf(',');
    if (comma < 0) throw new Error(`line ${i + 1}: expected "timestamp,value"`);
    const label = line.slice(0, comma).trim();
    labels.push(label);
    times.push(parseTimestamp(label));
    values.push(Number(line.slice(comma + 1)));
  }
  return { labels, times, values };
}

export interface Detection {
  index: number;
  timestamp: string;
  timeMs: number;
  value: number;
  verdict: PointVerdict;
}

export interface RunOptions {
  /** Called before each point; may return a replacement detector (restart tests). */
  onPoint?: (index: number, detector: SeriesDetector) => SeriesDetector | void;
  /** For experiments (bench/): the tuning to run instead of TUNING. */
  tuning?: DetectorTuning;
}

/** Runs one series through a fresh detector; returns the anomalous points. */
export function runSeries(data: SeriesData, settings: DetectorSettings, opts: RunOptions = {}): Detection[] {
  let det = SeriesDetector.create(settings, opts.tuning);
  const out: Detection[] = [];
  for (let i = 0; i < data.values.length; i++) {
    if (opts.onPoint) det = opts.onPoint(i, det) ?? det;
    const v = det.observe(data.times[i]!, data.values[i]!);
    if (v.anomalous) out.push({ index: i, timestamp: data.labels[i]!, timeMs: data.times[i]!, value: data.values[i]!, verdict: v });
  }
  return out;
}

/**
 * The rows of label windows given as [start, end] timestamps (both ends inclusive), matched to the
 * series' rows by parsed time. Throws on a window end that is not a row of the series.
 */
export function windowRows(data: SeriesData, windows: ReadonlyArray<readonly [string, string]>): Array<[number, number]> {
  const rowOf = new Map<number, number>();
  data.times.forEach((time, row) => rowOf.set(time, row));
  return windows.map(([start, end]) => {
    const first = rowOf.get(parseTimestamp(start));
    const last = rowOf.get(parseTimestamp(end));
    if (first === undefined || last === undefined) throw new Error(`label window [${start}, ${end}] does not match rows of the series`);
    return [first, last];
  });
}

/**
 * Scorer key for a CSV path: relative to `root` when given, else the part after the last `data/`
 * folder, else the file name. Always with forward slashes.
 */
export function seriesKey(filePath: string, root?: string, relative?: (from: string, to: string) => string): string {
  const p = filePath.replace(/\\/g, '/');
  if (root !== undefined && relative) return relative(root, filePath).replace(/\\/g, '/');
  const i = p.lastIndexOf('/data/');
  if (i >= 0) return p.slice(i + 6);
  if (p.startsWith('data/')) return p.slice(5);
  return p.slice(p.lastIndexOf('/') + 1);
}
