/**
 * The adaptive-resonance novelty member (art-novelty.ts) and the 'novelty' method: on the NAB series
 * TravelTime_451 (test/fixtures/nab) the labelled window that the likelihood misses is found by a novel
 * window; a restart continues bit for bit; the stored state stays within its stated bound (weights as
 * two base-64 digits; older snapshots with integer arrays still restore). The companion members (other
 * vigilances) find the first window of machine_temperature_system_failure, which the member alone misses;
 * a snapshot taken before the companions existed restores with fresh companions. The provisional member
 * (trained on the first 150 points) finds the first window of speed_7578, which ends before the members'
 * training does; it lives only until then, restarts continue bit for bit across its life, and a snapshot
 * taken before it existed restores with a fresh one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NoveltyMember, decodeWeights, encodeWeights, type NoveltyMemberState } from '../../src/anomalies/detection/art-novelty.js';
import { parseSeriesCsv } from '../../src/anomalies/detection/backtest.js';
import { DEFAULT_METHOD, SeriesDetector, TUNING, type DetectorMethod, type DetectorTuning, type SeriesDetectorState } from '../../src/anomalies/detection/series-detector.js';
import { synthetic } from './synthetic.js';

const travelTime = parseSeriesCsv(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realTraffic/TravelTime_451.csv'), 'utf8'));
/** Its one label window (data/labels/combined_windows.json), as rows. */
const WINDOW = [438, 654] as const;

function reports(values: readonly number[], restartAt: number[] = []): number[] {
  let member = new NoveltyMember(TUNING.novelty);
  const out: number[] = [];
  values.forEach((value, row) => {
    if (restartAt.includes(row)) member = NoveltyMember.restore(TUNING.novelty, JSON.parse(JSON.stringify(member.snapshot())) as NoveltyMemberState);
    out.push(member.observe(value));
  });
  return out;
}

const machineTemperature = parseSeriesCsv(
  fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realKnownCause/machine_temperature_system_failure.csv'), 'utf8'),
);
/** Its first label window ("2013-12-10 06:25:00" to "2013-12-12 05:35:00"), as rows. */
const MACHINE_FIRST_WINDOW = [2126, 2692] as const;

function anomalousRows(method: DetectorMethod, series = travelTime, tuning: DetectorTuning = TUNING): Array<{ row: number; methods: string[] }> {
  const detector = SeriesDetector.create({ sensitivity: 'medium', method }, tuning);
  return series.values.flatMap((value, row) => {
    const verdict = detector.observe(series.times[row]!, value);
    return verdict.anomalous ? [{ row, methods: verdict.methods }] : [];
  });
}

const speed = parseSeriesCsv(fs.readFileSync(path.join(process.cwd(), 'test/fixtures/nab/data/realTraffic/speed_7578.csv'), 'utf8'));
/** Its first label window ("2015-09-11 15:34:00" to "2015-09-11 17:54:00"), as rows. */
const SPEED_FIRST_WINDOW = [303, 331] as const;

/** Every verdict of the default detector on `values`, restarted (snapshot -> JSON -> restore) before each row of `restartAt`. */
function verdicts(series: typeof speed, restartAt: number[] = []): string[] {
  let detector = SeriesDetector.create({ sensitivity: 'medium' });
  return series.values.map((value, row) => {
    if (restartAt.includes(row)) detector = SeriesDetector.restore({ sensitivity: 'medium' }, JSON.parse(JSON.stringify(detector.snapshot())) as SeriesDetectorState)!;
    return JSON.stringify(detector.observe(series.times[row]!, value));
  });
}

describe('adaptive-resonance novelty member', () => {
  test('TravelTime_451: the likelihood alone misses the labelled window; the novelty method finds it through a novel window', () => {
    const inWindow = (row: number): boolean => row >= WINDOW[0] && row <= WINDOW[1];
    assert.deepEqual(anomalousRows('likelihood').filter(({ row }) => inWindow(row)), []);
    const found = anomalousRows('novelty').filter(({ row }) => inWindow(row));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.ok(found[0]!.methods.includes('novelty'), JSON.stringify(found));
    assert.equal(DEFAULT_METHOD, 'novelty');
  });

  test('machine_temperature_system_failure: the companion members find the first labelled window, which the member alone misses', () => {
    const [start, end] = MACHINE_FIRST_WINDOW;
    assert.equal(machineTemperature.labels[start], '2013-12-10 06:25:00');
    assert.equal(machineTemperature.labels[end], '2013-12-12 05:35:00');
    const inWindow = ({ row }: { row: number }): boolean => row >= start && row <= end;
    assert.deepEqual(anomalousRows('novelty', machineTemperature, { ...TUNING, companionScaleOffsets: [] }).filter(inWindow), []);
    const found = anomalousRows('novelty', machineTemperature).filter(inWindow);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.ok(found[0]!.methods.includes('novelty') && !found[0]!.methods.includes('likelihood'), JSON.stringify(found));
  });

  test('speed_7578: the provisional member finds the first labelled window, which ends before the members finish training', () => {
    const [start, end] = SPEED_FIRST_WINDOW;
    assert.equal(speed.labels[start], '2015-09-11 15:34:00');
    assert.equal(speed.labels[end], '2015-09-11 17:54:00');
    assert.ok(end < TUNING.novelty.trainPoints && start > TUNING.provisionalTrainPoints);
    const inWindow = ({ row }: { row: number }): boolean => row >= start && row <= end;
    assert.deepEqual(anomalousRows('novelty', speed, { ...TUNING, provisionalTrainPoints: 0 }).filter(inWindow), []);
    const found = anomalousRows('novelty', speed).filter(inWindow);
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.deepEqual(found[0]!.methods.filter((method) => method === 'novelty' || method === 'likelihood'), ['novelty']);
  });

  test('the provisional member is stored only while the members train; restarts across its life continue bit for bit', () => {
    const detector = SeriesDetector.create({ sensitivity: 'medium' });
    const stored: Array<number | undefined> = [];
    for (let row = 0; row < 600; row++) {
      detector.observe(speed.times[row]!, speed.values[row]!);
      stored.push(detector.snapshot().provisional?.seen);
    }
    // present, with every point seen so far, up to the members' last training point; absent after
    const last = TUNING.novelty.trainPoints - 2;
    assert.deepEqual(stored.slice(0, last + 1), Array.from({ length: last + 1 }, (_unused, row) => row + 1));
    assert.deepEqual(stored.slice(last + 1), Array.from({ length: 600 - last - 1 }, () => undefined));
    const straight = verdicts(speed);
    assert.deepEqual(verdicts(speed, [100, 149, 150, 151, 318, 319, 498, 499, 500]), straight);
  });

  test('a snapshot without the provisional member (taken before it existed) restores: it starts anew while the members train', () => {
    const detector = SeriesDetector.create({ sensitivity: 'medium' });
    for (let row = 0; row < 200; row++) detector.observe(speed.times[row]!, speed.values[row]!);
    const { provisional, ...older } = JSON.parse(JSON.stringify(detector.snapshot())) as SeriesDetectorState;
    assert.equal(provisional!.seen, 200);
    const restored = SeriesDetector.restore({ sensitivity: 'medium' }, older as SeriesDetectorState)!;
    assert.equal(restored.snapshot().provisional!.seen, 0);
    for (let row = 200; row < 520; row++) restored.observe(speed.times[row]!, speed.values[row]!);
    assert.equal(restored.snapshot().provisional, undefined);
  });

  test('a snapshot without the companions (taken before they existed) restores: the member continues, the companions start anew', () => {
    const detector = SeriesDetector.create({ sensitivity: 'medium' });
    for (let row = 0; row < 1500; row++) detector.observe(travelTime.times[row]!, travelTime.values[row]!);
    const state = JSON.parse(JSON.stringify(detector.snapshot())) as SeriesDetectorState;
    assert.deepEqual(state.companions!.map((companion) => companion.seen), [1500, 1500]);
    const { companions: _dropped, ...older } = state;
    const restored = SeriesDetector.restore({ sensitivity: 'medium' }, older as SeriesDetectorState)!.snapshot();
    assert.deepEqual(restored.novelty, state.novelty);
    assert.deepEqual(restored.companions!.map((companion) => [companion.seen, companion.trained]), [[0, false], [0, false]]);
  });

  test('no report during training (500 points); reports are more than maskSteps downsampled steps apart', () => {
    const rows = reports(travelTime.values).flatMap((value, row) => (value > 0 ? [row] : []));
    assert.ok(rows.length > 0 && rows[0]! >= TUNING.novelty.trainPoints, `rows ${rows}`);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]! - rows[i - 1]! > TUNING.novelty.maskSteps * TUNING.novelty.step, `rows ${rows}`);
  });

  test('restarts before, at and after the end of training and inside a downsampling block continue bit for bit', () => {
    const straight = reports(travelTime.values);
    assert.deepEqual(reports(travelTime.values, [3, 498, 499, 500, 501, 1502, 2001]), straight);
    const seasonal = synthetic({ n: 3000, seed: 5, daily: 10 }).values;
    assert.deepEqual(reports(seasonal, [250, 499, 500, 1999]), reports(seasonal));
  });

  test('values near the largest doubles: every report and the stored state stay finite, and a restart continues bit for bit', () => {
    const extreme = Array.from({ length: 1200 }, (_unused, row) => (row % 3 === 0 ? 1.7e308 : row % 3 === 1 ? -1.7e308 : row));
    const straight = reports(extreme);
    assert.ok(straight.every((value) => Number.isFinite(value)));
    assert.deepEqual(reports(extreme, [501, 777]), straight);
  });

  test('members differing only in vigilance share one front end: every report and snapshot equals that of members on their own', () => {
    const tunings = [0, 0.08, -0.04].map((offset) => ({ ...TUNING.novelty, vigilanceScale: TUNING.novelty.vigilanceScale + offset }));
    const alone = tunings.map((tuning) => new NoveltyMember(tuning));
    let shared = tunings.map((tuning) => new NoveltyMember(tuning));
    assert.deepEqual(shared.slice(1).map((member) => member.shareFrontEnd(shared[0]!)), [true, true]);
    const values = machineTemperature.values.slice(0, 4000);
    const snapshots = (members: NoveltyMember[]) => JSON.stringify(members.map((member) => member.snapshot()));
    let reported = 0;
    values.forEach((value, row) => {
      // The sharing members observe in turn, the first in a different place each point (any order is fine).
      const order = [row % 3, (row + 1) % 3, (row + 2) % 3];
      const sharedReports: number[] = [];
      for (const index of order) sharedReports[index] = shared[index]!.observe(value);
      assert.deepEqual(sharedReports, alone.map((member) => member.observe(value)), `row ${row}`);
      reported += sharedReports.filter((report) => report > 0).length;
      if ([3, 498, 499, 500, 501, 1999, 3999].includes(row)) {
        assert.equal(snapshots(shared), snapshots(alone), `row ${row}`);
        // Restored members share again (the same state), and continue as the others.
        shared = tunings.map((tuning, index) => NoveltyMember.restore(tuning, JSON.parse(JSON.stringify(shared[index]!.snapshot())) as NoveltyMemberState));
        assert.deepEqual(shared.slice(1).map((member) => member.shareFrontEnd(shared[0]!)), [true, true]);
      }
    });
    assert.ok(reported > 0, 'the comparison covers reports');
  });

  test('a member shares no front end with a different state or front tuning, and may not skip a point of a shared one', () => {
    const leader = new NoveltyMember(TUNING.novelty);
    const behind = new NoveltyMember({ ...TUNING.novelty, vigilanceScale: 0.9 });
    leader.observe(1);
    assert.equal(behind.shareFrontEnd(leader), false);
    assert.equal(new NoveltyMember({ ...TUNING.novelty, step: 2 }).shareFrontEnd(new NoveltyMember(TUNING.novelty)), false);
    const follower = new NoveltyMember({ ...TUNING.novelty, vigilanceScale: 0.9 });
    const first = new NoveltyMember(TUNING.novelty);
    assert.equal(follower.shareFrontEnd(first), true);
    first.observe(1);
    first.observe(2);
    assert.throws(() => follower.observe(1), /skipped a point/);
  });

  test('weights as two base-64 digits: every weight 0..1000 round-trips; an older snapshot with integer arrays restores to the same member', () => {
    const weights = Array.from({ length: 1001 }, (_unused, weight) => weight);
    const text = encodeWeights(weights);
    assert.equal(text.length, 2002);
    assert.equal(text.slice(0, 4), 'AAAB');
    assert.equal(text.slice(-2), 'Po'); // 1000 = 15 x 64 + 40: 'P', 'o'
    assert.deepEqual(decodeWeights(text), weights);
    const member = new NoveltyMember(TUNING.novelty);
    for (const value of travelTime.values.slice(0, 1200)) member.observe(value);
    const state = member.snapshot();
    assert.equal(typeof state.categories, 'string');
    const older: NoveltyMemberState = { ...state, categories: decodeWeights(state.categories as string) };
    assert.deepEqual(NoveltyMember.restore(TUNING.novelty, older).snapshot(), state);
  });

  test('as stored: at most 6.5 KB with every category in use and every integer at its widest', () => {
    const { maxCategories, window, trainPoints, step, levels } = TUNING.novelty;
    const widest: NoveltyMemberState = {
      seen: 1e9,
      block: Array.from({ length: step - 1 }, () => -1.2345678901234567e300),
      average: -1.2345678901234567e300,
      low: -1.2345678901234567e300,
      high: 1.2345678901234567e300,
      trained: true,
      // Training levels and a full category set never coexist; both at their widest give a safe bound.
      trainingLevels: Array.from({ length: Math.ceil(trainPoints / step) }, () => levels),
      recentLevels: Array.from({ length: 64 }, () => levels),
      window: Array.from({ length: window }, () => levels),
      steps: 1e9,
      lastNovel: -1e9,
      vigilance: 0.1234567890123456,
      categories: encodeWeights(Array.from({ length: maxCategories * 4 * window }, () => 1000)),
      lastUsed: Array.from({ length: maxCategories }, () => 1e9),
    };
    const stored = JSON.stringify(NoveltyMember.restore(TUNING.novelty, widest).snapshot());
    assert.equal((JSON.parse(stored) as NoveltyMemberState).categories.length, 2 * maxCategories * 4 * window);
    assert.ok(stored.length < 6_500, `${stored.length} characters`);
  });
});
