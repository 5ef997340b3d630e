/**
 * Judges the detector on labelled series: each series run through a fresh detector (the backtest's run
 * loop), its detections scored with the NAB rules (nab-scoring.ts). Pure: the caller reads the files.
 */
import { runSeries, type SeriesData } from './backtest.js';
import { emptyTally, nabResult, tallySeries, type NabResult } from './nab-scoring.js';
import type { DetectorSettings, DetectorTuning } from './series-detector.js';

export interface LabelledSeries {
  key: string;
  data: SeriesData;
  /** Label windows as [startRow, endRow], both inclusive. */
  windows: Array<[number, number]>;
}

export interface Evaluation {
  result: NabResult;
  /** Per series key: the rows judged anomalous. */
  detected: Map<string, number[]>;
}

export function evaluate(series: readonly LabelledSeries[], settings: DetectorSettings, tuning?: DetectorTuning): Evaluation {
  const tally = emptyTally();
  const detected = new Map<string, number[]>();
  for (const one of series) {
    const rows = runSeries(one.data, settings, { tuning }).map((detection) => detection.index);
    detected.set(one.key, rows);
    tallySeries(tally, one.data.values.length, one.windows, rows);
  }
  return { result: nabResult(tally), detected };
}
