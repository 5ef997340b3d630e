/**
 * NAB scoring (Lavin & Ahmad 2015; Ahmad et al. 2017) of binary detections, in row space: the rules of
 * the project's NAB kit scorer (test/fixtures/nab/score.mjs), written again here so the backtest CLI can
 * judge a detector on any labelled data. Pure code, no I/O.
 *
 * Rules (see score.mjs for their full statement):
 * - probation: the first min(floor(0.15 n), 750) rows are not scored (detections there are dropped);
 * - window level: a window with a detection is a TP (once), a detection outside every window a FP (each
 *   row), a window without one a FN; micro-averaged precision, recall, F1;
 * - NAB: a detected window earns A_TP * sig(y) / sig(-1) for its earliest detection, y = -(end - i + 1) / width;
 *   a missed window A_FN; each FP |A_FP| * sig(y), y = (i - end) / (width - 1) from the closest preceding
 *   window (-|A_FP| with none); sig(y) = 2 / (1 + e^(5y)) - 1 (-1 past y = 3); normalised
 *   100 (raw - null) / (perfect - null) with null = A_FN * windows, perfect = A_TP * windows.
 */

export type NabProfileName = 'standard' | 'reward_low_FP_rate' | 'reward_low_FN_rate';

interface NabProfile {
  tp: number;
  fp: number;
  fn: number;
}

export const NAB_PROFILES: Readonly<Record<NabProfileName, NabProfile>> = {
  standard: { tp: 1, fp: -0.11, fn: -1 },
  reward_low_FP_rate: { tp: 1, fp: -0.22, fn: -1 },
  reward_low_FN_rate: { tp: 1, fp: -0.11, fn: -2 },
};

const PROFILE_NAMES = Object.keys(NAB_PROFILES) as NabProfileName[];

/** Rows of a series not scored at its start. */
export function probationRows(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 750);
}

function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}
const SIGMOID_AT_WINDOW_START = scaledSigmoid(-1);

/** Sums over series: the NAB parts per profile and the window counts. */
export interface NabTally {
  series: number;
  windows: number;
  detections: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  /** Per profile: raw score, null score (never fires), perfect score. */
  profiles: Record<NabProfileName, { raw: number; null: number; perfect: number }>;
}

export interface NabResult {
  tally: NabTally;
  /** Normalised scores, 0 = never fires, 100 = perfect. */
  standard: number;
  lowFalsePositives: number;
  lowFalseNegatives: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
}

export function emptyTally(): NabTally {
  const profiles = {} as NabTally['profiles'];
  for (const name of PROFILE_NAMES) profiles[name] = { raw: 0, null: 0, perfect: 0 };
  return { series: 0, windows: 0, detections: 0, truePositives: 0, falsePositives: 0, falseNegatives: 0, profiles };
}

/**
 * Adds one series to `tally`: `rows` rows, label `windows` as [startRow, endRow] (inclusive, any order),
 * `detected` row indices (any order, duplicates merged).
 */
export function tallySeries(tally: NabTally, rows: number, windows: ReadonlyArray<readonly [number, number]>, detected: readonly number[]): NabTally {
  const probation = probationRows(rows);
  const sortedWindows = [...windows].sort((first, second) => first[0] - second[0]);
  const earliest: Array<number | null> = sortedWindows.map(() => null);
  const scorable = sortedWindows.map(([, end]) => end >= probation);
  const falsePositives: Array<[row: number, previousWindow: number]> = [];
  const scored = [...new Set(detected)].filter((row) => row >= probation).sort((first, second) => first - second);
  let next = 0;
  for (const row of scored) {
    while (next < sortedWindows.length && sortedWindows[next]![1] < row) next++;
    if (next < sortedWindows.length && sortedWindows[next]![0] <= row) earliest[next] ??= row;
    else falsePositives.push([row, next - 1]);
  }
  const scorableCount = scorable.filter(Boolean).length;
  for (const name of PROFILE_NAMES) {
    const profile = NAB_PROFILES[name];
    let raw = 0;
    sortedWindows.forEach(([start, end], index) => {
      if (!scorable[index]) return;
      const first = earliest[index];
      const width = end - start + 1;
      raw += first === null || first === undefined ? profile.fn : (profile.tp * scaledSigmoid(-(end - first + 1) / width)) / SIGMOID_AT_WINDOW_START;
    });
    for (const [row, previous] of falsePositives) {
      let sigmoid = -1;
      if (previous >= 0) {
        const [start, end] = sortedWindows[previous]!;
        const width = end - start + 1;
        sigmoid = scaledSigmoid(width > 1 ? Math.abs(row - end) / (width - 1) : Infinity);
      }
      raw += Math.abs(profile.fp) * sigmoid;
    }
    const part = tally.profiles[name];
    part.raw += raw;
    part.null += profile.fn * scorableCount;
    part.perfect += profile.tp * sortedWindows.length;
  }
  const hits = earliest.filter((row, index) => scorable[index] && row !== null).length;
  tally.series++;
  tally.windows += scorableCount;
  tally.detections += scored.length;
  tally.truePositives += hits;
  tally.falseNegatives += scorableCount - hits;
  tally.falsePositives += falsePositives.length;
  return tally;
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 ? numerator / denominator : null;
}

function normalised(part: { raw: number; null: number; perfect: number }): number {
  return part.perfect !== part.null ? (100 * (part.raw - part.null)) / (part.perfect - part.null) : 0;
}

/** The scores of a tally. */
export function nabResult(tally: NabTally): NabResult {
  const { truePositives: tp, falsePositives: fp, falseNegatives: fn } = tally;
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  let f1: number | null = null;
  if (precision !== null && recall !== null && precision + recall > 0) f1 = (2 * precision * recall) / (precision + recall);
  else if (tp === 0 && fp + fn > 0) f1 = 0;
  return {
    tally,
    standard: normalised(tally.profiles.standard),
    lowFalsePositives: normalised(tally.profiles.reward_low_FP_rate),
    lowFalseNegatives: normalised(tally.profiles.reward_low_FN_rate),
    precision,
    recall,
    f1,
  };
}

/** One line: the three NAB profiles and the window-level precision, recall and F1. */
export function describeNabResult(result: NabResult): string {
  const fixed = (value: number | null, digits: number): string => (value === null ? '-' : value.toFixed(digits));
  const { tally } = result;
  return (
    `NAB standard ${fixed(result.standard, 2)}, low-FP ${fixed(result.lowFalsePositives, 2)}, low-FN ${fixed(result.lowFalseNegatives, 2)}; ` +
    `windows: precision ${fixed(result.precision, 3)} recall ${fixed(result.recall, 3)} F1 ${fixed(result.f1, 3)} ` +
    `(TP ${tally.truePositives} FP ${tally.falsePositives} FN ${tally.falseNegatives}, ${tally.series} series, ${tally.detections} scored detections)`
  );
}
