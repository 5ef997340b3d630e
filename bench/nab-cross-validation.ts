/**
 * `npm run anomalies:cross-validation [-- --nab DIR] [--method novelty|ensemble|likelihood|isolation_forest]` (novelty, the default, by default): how well the detector's one parameter set
 * generalises on the NAB DEV half (test/fixtures/nab by default; never the held-back half).
 *
 * 1. The full-set score of the shipped TUNING (medium, low and high sensitivity), all three NAB profiles.
 * 2. A 2-fold cross-validation: the 29 series are split in two folds (within each category, series in
 *    name order go alternately to fold A and fold B). For each fold, each grid below is searched for the
 *    best NAB standard score on that fold alone; that parameter set is then scored on the other fold.
 *    The two out-of-fold halves are summed into one cross-validated score of the whole set, reported
 *    beside the full-set score of the grid's best point (tuned on everything) and of TUNING.
 * The forest methods search a smaller grid (FOREST_GRID), the novelty method the four of NOVELTY_GRID. Measures, never asserts. A few minutes on a shared 2-core machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseSeriesCsv, windowRows } from '../src/anomalies/detection/backtest.js';
import { evaluate, type LabelledSeries } from '../src/anomalies/detection/labelled-evaluation.js';
import { describeNabResult, emptyTally, nabResult, type NabResult, type NabTally } from '../src/anomalies/detection/nab-scoring.js';
import { DEFAULT_METHOD, DETECTOR_METHODS, TUNING, type DetectorMethod, type DetectorTuning, type Sensitivity } from '../src/anomalies/detection/series-detector.js';

const methodAt = process.argv.indexOf('--method');
const method = (methodAt >= 0 ? process.argv[methodAt + 1] : DEFAULT_METHOD) as DetectorMethod;
if (!DETECTOR_METHODS.includes(method)) throw new Error(`--method: one of ${DETECTOR_METHODS.join(', ')}`);
const medium = { sensitivity: 'medium' as Sensitivity, method };

function loadDev(dir: string): LabelledSeries[] {
  const keys = fs.readFileSync(path.join(dir, 'dev.txt'), 'utf8').split('\n').map((line) => line.replace(/#.*/, '').trim()).filter(Boolean);
  const windows = JSON.parse(fs.readFileSync(path.join(dir, 'data/labels/combined_windows.json'), 'utf8')) as Record<string, Array<[string, string]>>;
  return keys.map((key) => {
    const data = parseSeriesCsv(fs.readFileSync(path.join(dir, 'data', key), 'utf8'));
    return { key, data, windows: windowRows(data, windows[key] ?? []) };
  });
}

/** Fold A and fold B: within each category, series in name order alternate between them. */
function folds(series: readonly LabelledSeries[]): [LabelledSeries[], LabelledSeries[]] {
  const byCategory = new Map<string, LabelledSeries[]>();
  for (const one of [...series].sort((first, second) => first.key.localeCompare(second.key))) {
    const category = one.key.split('/')[0]!;
    byCategory.set(category, [...(byCategory.get(category) ?? []), one]);
  }
  const a: LabelledSeries[] = [];
  const b: LabelledSeries[] = [];
  let next = 0;
  for (const members of byCategory.values()) for (const one of members) (next++ % 2 === 0 ? a : b).push(one);
  return [a, b];
}

interface GridPoint {
  name: string;
  tuning: DetectorTuning;
}

/** A grid of 81 points around TUNING over four knobs. */
function grid(vary: (epsilon: number, shortWindow: number, third: number, fourth: number) => GridPoint, third: number[], fourth: number[]): GridPoint[] {
  const points: GridPoint[] = [];
  for (const epsilon of [1e-4, 1e-5, 1e-6]) for (const shortWindow of [8, 16, 32]) for (const c of third) for (const d of fourth) points.push(vary(epsilon, shortWindow, c, d));
  return points;
}

function withEpsilon(epsilon: number): DetectorTuning['epsilon'] {
  return { low: epsilon / 10, medium: epsilon, high: epsilon * 10 };
}

/** The forest methods' grid (9 points: a forest evaluation costs ~5x the likelihood's): threshold x the forest's weight in the ensemble. */
const FOREST_GRID: Array<{ name: string; points: GridPoint[] }> = [
  {
    name: 'epsilon x forest ensemble factor',
    points: [1e-4, 1e-5, 1e-6].flatMap((epsilon) =>
      [0.001, 0.01, 0.1].map((ensembleFactor) => ({
        name: `epsilon ${epsilon}, forest factor ${ensembleFactor}`,
        tuning: { ...TUNING, epsilon: withEpsilon(epsilon), forest: { ...TUNING.forest, ensembleFactor } },
      })),
    ),
  },
];

interface NoveltyKnobs {
  epsilon: number;
  vigilanceScale?: number;
  maskSteps: number;
  companionScaleOffsets?: readonly number[];
  provisionalTrainPoints?: number;
  likelihoodMinZ?: number;
  likelihoodRun?: DetectorTuning['likelihoodRun'];
}

/** A grid point: TUNING with these knobs (the rest at TUNING's values). */
function noveltyPoint(knobs: NoveltyKnobs): GridPoint {
  const {
    epsilon,
    vigilanceScale = TUNING.novelty.vigilanceScale,
    maskSteps,
    companionScaleOffsets = TUNING.companionScaleOffsets,
    provisionalTrainPoints = TUNING.provisionalTrainPoints,
    likelihoodMinZ = TUNING.likelihoodMinZ,
    likelihoodRun = TUNING.likelihoodRun,
  } = knobs;
  return {
    name:
      `epsilon ${epsilon}, vigilance scale ${vigilanceScale}, mask ${maskSteps}, companion offsets [${companionScaleOffsets.join(', ')}], ` +
      `provisional ${provisionalTrainPoints}, likelihood min z ${likelihoodMinZ}, run ${likelihoodRun.points} points at z ${likelihoodRun.z}`,
    tuning: {
      ...TUNING,
      epsilon: withEpsilon(epsilon),
      novelty: { ...TUNING.novelty, vigilanceScale, maskSteps },
      companionScaleOffsets,
      provisionalTrainPoints,
      likelihoodMinZ,
      likelihoodRun,
    },
  };
}

const EPSILONS = [3e-5, 1e-5, 3e-6];
const SCALES = [0.75, 0.8, 0.85];
const MASKS = [200, 600, 1000];

/**
 * The novelty method's grids: the likelihood's threshold x the vigilance scale x the novelty mask (27 points,
 * the companion members at TUNING's offsets from the scale); the same x the companions: none, one at +0.08,
 * TUNING's two (81 points); the threshold x the mask x the likelihood's minimum z {0 (off), 6, 10, 14} x the
 * provisional member: none (0) or TUNING's (72 points); the threshold x the mask {600, 1000} x the run rule's
 * length {8, 10} x its z {3, 3.25, 3.5} (36 points: runs kept short enough that a +6 sigma shift is reported
 * where it is without the gate, test/anomalies/detector.synthetic.test.ts).
 */
const NOVELTY_GRID: Array<{ name: string; points: GridPoint[] }> = [
  {
    name: 'epsilon x vigilance scale x mask steps',
    points: EPSILONS.flatMap((epsilon) => SCALES.flatMap((vigilanceScale) => MASKS.map((maskSteps) => noveltyPoint({ epsilon, vigilanceScale, maskSteps })))),
  },
  {
    name: 'epsilon x vigilance scale x mask steps x companions',
    points: EPSILONS.flatMap((epsilon) =>
      SCALES.flatMap((vigilanceScale) =>
        MASKS.flatMap((maskSteps) =>
          [[], [0.08], TUNING.companionScaleOffsets].map((companionScaleOffsets) => noveltyPoint({ epsilon, vigilanceScale, maskSteps, companionScaleOffsets })),
        ),
      ),
    ),
  },
  {
    name: 'epsilon x mask steps x likelihood min z x provisional member',
    points: EPSILONS.flatMap((epsilon) =>
      MASKS.flatMap((maskSteps) =>
        [0, 6, 10, 14].flatMap((likelihoodMinZ) =>
          [0, TUNING.provisionalTrainPoints].map((provisionalTrainPoints) => noveltyPoint({ epsilon, maskSteps, likelihoodMinZ, provisionalTrainPoints })),
        ),
      ),
    ),
  },
  {
    name: 'epsilon x mask steps x run rule points x run rule z',
    points: EPSILONS.flatMap((epsilon) =>
      [600, 1000].flatMap((maskSteps) =>
        [8, 10].flatMap((points) => [3, 3.25, 3.5].map((z) => noveltyPoint({ epsilon, maskSteps, likelihoodRun: { points, z } }))),
      ),
    ),
  },
];

/** The two grids searched: thresholds and smoothing; the deviation scale and the likelihood's memory. */
const LIKELIHOOD_GRIDS: Array<{ name: string; points: GridPoint[] }> = [
  {
    name: 'epsilon x short window x suppression x sigma floor',
    points: grid(
      (epsilon, shortWindow, suppressPoints, minSigma) => ({
        name: `epsilon ${epsilon}, short ${shortWindow}, suppress ${suppressPoints}, min sigma ${minSigma}`,
        tuning: { ...TUNING, epsilon: withEpsilon(epsilon), suppressPoints, likelihood: { ...TUNING.likelihood, shortWindow, minSigma } },
      }),
      [50, 100, 200],
      [0.03, 0.06, 0.1],
    ),
  },
  {
    name: 'epsilon x short window x z0 x long window',
    points: grid(
      (epsilon, shortWindow, z0, longWindow) => ({
        name: `epsilon ${epsilon}, short ${shortWindow}, z0 ${z0}, long ${longWindow}`,
        tuning: { ...TUNING, z0, epsilon: withEpsilon(epsilon), likelihood: { ...TUNING.likelihood, shortWindow, longWindow } },
      }),
      [3, 4, 5],
      [700, 1000, 1500],
    ),
  },
];

function best(series: readonly LabelledSeries[], points: readonly GridPoint[]): { point: GridPoint; result: NabResult } {
  let winner: { point: GridPoint; result: NabResult } | undefined;
  for (const point of points) {
    const { result } = evaluate(series, medium, point.tuning);
    if (!winner || result.standard > winner.result.standard) winner = { point, result };
  }
  return winner!;
}

function merged(parts: readonly NabTally[]): NabResult {
  const total = emptyTally();
  for (const part of parts) {
    total.series += part.series;
    total.windows += part.windows;
    total.detections += part.detections;
    total.truePositives += part.truePositives;
    total.falsePositives += part.falsePositives;
    total.falseNegatives += part.falseNegatives;
    for (const name of Object.keys(total.profiles) as Array<keyof NabTally['profiles']>) {
      total.profiles[name].raw += part.profiles[name].raw;
      total.profiles[name].null += part.profiles[name].null;
      total.profiles[name].perfect += part.profiles[name].perfect;
    }
  }
  return nabResult(total);
}

function main(): void {
  const at = process.argv.indexOf('--nab');
  const dir = at >= 0 ? process.argv[at + 1]! : path.join(process.cwd(), 'test/fixtures/nab');
  const series = loadDev(dir);
  console.log(`NAB DEV: ${series.length} series, ${series.reduce((sum, one) => sum + one.windows.length, 0)} windows (${dir})`);
  for (const sensitivity of ['low', 'medium', 'high'] as Sensitivity[]) {
    console.log(`TUNING, ${method}, ${sensitivity}: ${describeNabResult(evaluate(series, { sensitivity, method }).result)}`);
  }
  const [a, b] = folds(series);
  console.log(`fold A (${a.length} series): ${a.map((one) => one.key).join(', ')}`);
  console.log(`fold B (${b.length} series): ${b.map((one) => one.key).join(', ')}`);
  for (const { name, points } of method === 'likelihood' ? LIKELIHOOD_GRIDS : method === 'novelty' ? NOVELTY_GRID : FOREST_GRID) {
    console.log(`\ngrid: ${name} (${points.length} points)`);
    const tunedOnA = best(a, points);
    const tunedOnB = best(b, points);
    const bUnderA = evaluate(b, medium, tunedOnA.point.tuning).result;
    const aUnderB = evaluate(a, medium, tunedOnB.point.tuning).result;
    console.log(`tuned on A [${tunedOnA.point.name}]: A ${tunedOnA.result.standard.toFixed(2)} -> B ${bUnderA.standard.toFixed(2)}`);
    console.log(`tuned on B [${tunedOnB.point.name}]: B ${tunedOnB.result.standard.toFixed(2)} -> A ${aUnderB.standard.toFixed(2)}`);
    console.log(`cross-validated (out-of-fold halves summed): ${describeNabResult(merged([bUnderA.tally, aUnderB.tally]))}`);
    const full = best(series, points);
    console.log(`grid best on the full set [${full.point.name}]: ${describeNabResult(full.result)}`);
  }
}

main();
