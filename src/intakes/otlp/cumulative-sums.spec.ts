import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CumulativeSums, type CumulativePoint, type CumulativeVerdict } from './cumulative-sums.js';

const MS = 1_000_000n;
const STARTED_AT = 1_800_000_000_000;
const point = (series: string, startMs: number, timeMs: number, value: number | number[]): CumulativePoint => ({
  series,
  startNanos: BigInt(startMs) * MS,
  timeNanos: BigInt(timeMs) * MS,
  values: typeof value === 'number' ? [value] : value,
});
const total = (verdicts: CumulativeVerdict[]) => verdicts.reduce((sum, verdict) => sum + ('delta' in verdict ? verdict.delta[0]! : 0), 0);

describe('CumulativeSums', () => {
  test('10, 25, 40 of one run add up to 40; a repeated point adds nothing', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const start = STARTED_AT + 1000;
    const first = sums.convert([point('a', start, start + 10, 10), point('a', start, start + 20, 25)], STARTED_AT + 30);
    const second = sums.convert([point('a', start, start + 30, 40), point('a', start, start + 30, 40)], STARTED_AT + 40);
    assert.deepEqual(first.verdicts, [{ delta: [10] }, { delta: [15] }]);
    assert.deepEqual(second.verdicts, [{ delta: [15] }, { skipped: 'repeat' }]);
    assert.equal(total([...first.verdicts, ...second.verdicts]), 40);
  });

  test('a new start time is a restart of the sender: its value counts whole, never negative; an older run adds nothing', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const run1 = STARTED_AT + 1000;
    const run2 = STARTED_AT + 5000;
    const { verdicts } = sums.convert(
      [point('a', run1, run1 + 10, 100), point('a', run2, run2 + 10, 7), point('a', run1, run1 + 20, 120), point('a', run2, run2 + 20, 9)],
      STARTED_AT + 6000,
    );
    assert.deepEqual(verdicts, [{ delta: [100] }, { delta: [7] }, { skipped: 'older_run' }, { delta: [2] }]);
  });

  test('a series that started before this state began only sets the baseline (a Vigil restart never counts it twice)', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const before = STARTED_AT - 60_000;
    const { verdicts } = sums.convert([point('a', before, STARTED_AT + 10, 500), point('a', before, STARTED_AT + 20, 530), point('b', 0, STARTED_AT + 20, 3)], STARTED_AT + 30);
    assert.deepEqual(verdicts, [{ skipped: 'baseline' }, { delta: [30] }, { skipped: 'baseline' }]);
  });

  test('the series count is bounded: a new series past it is refused and counted; idle series are forgotten and move the horizon', () => {
    let refused = 0;
    let forgotten = 0;
    const sums = new CumulativeSums(STARTED_AT, { maxSeries: 2, idleMs: 1000 }, () => refused++, (count) => (forgotten += count));
    const start = STARTED_AT + 1;
    const { verdicts } = sums.convert([point('a', start, start + 1, 1), point('b', start, start + 1, 1), point('c', start, start + 1, 1)], STARTED_AT + 10);
    assert.deepEqual(verdicts.map((verdict) => Object.keys(verdict)[0]), ['delta', 'delta', 'refused']);
    assert.equal(refused, 1);
    assert.equal(sums.size, 2);
    // 'a' is seen again at +500; at +1200 'b' has been idle 1190 ms and is forgotten, 'a' is kept.
    sums.convert([point('a', start, start + 400, 2)], STARTED_AT + 500);
    const later = sums.convert([point('b', start, start + 1100, 5)], STARTED_AT + 1200);
    assert.equal(forgotten, 1);
    // 'b' comes back with its old start time: it may have been counted, so it only sets the baseline.
    assert.deepEqual(later.verdicts, [{ skipped: 'baseline' }]);
    // At +2650 both are idle and forgotten; 'c' started when the horizon moved there: it counts whole.
    const fresh = sums.convert([point('c', STARTED_AT + 2650, STARTED_AT + 2650, 4)], STARTED_AT + 2650);
    assert.equal(forgotten, 3);
    assert.deepEqual(fresh.verdicts, [{ delta: [4] }]);
  });

  test('histograms: count, sum and bucket counts each add their increase; a count that falls is a reset', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const start = STARTED_AT + 1;
    const { verdicts } = sums.convert(
      [point('h', start, start + 10, [3, -4, 1, 2]), point('h', start, start + 20, [5, -9, 2, 3]), point('h', start, start + 30, [1, 7, 0, 1])],
      STARTED_AT + 40,
    );
    assert.deepEqual(verdicts, [{ delta: [3, -4, 1, 2] }, { delta: [2, -5, 1, 1] }, { delta: [1, 7, 0, 1] }]);
  });

  test('an exponential histogram that rescales within a run: the previous buckets are merged onto the new bounds', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const start = STARTED_AT + 1;
    const fine = [Math.SQRT2, Math.SQRT2 ** 2, Math.SQRT2 ** 3, Math.SQRT2 ** 4];
    const { verdicts } = sums.convert(
      [
        { ...point('e', start, start + 10, [15, 50, 1, 2, 3, 4, 5]), bounds: fine },
        { ...point('e', start, start + 20, [18, 60, 4, 9, 5]), bounds: [2, 4] },
      ],
      STARTED_AT + 30,
    );
    assert.deepEqual(verdicts, [{ delta: [15, 50, 1, 2, 3, 4, 5] }, { delta: [3, 10, 1, 2, 0] }]);
  });

  test('undo restores the state of points whose deltas were not committed', () => {
    const sums = new CumulativeSums(STARTED_AT);
    const start = STARTED_AT + 1;
    sums.convert([point('a', start, start + 10, 10)], STARTED_AT + 20);
    const failed = sums.convert([point('a', start, start + 20, 25), point('b', start, start + 20, 5)], STARTED_AT + 30);
    assert.deepEqual(failed.verdicts, [{ delta: [15] }, { delta: [5] }]);
    failed.undo(new Set([0]));
    failed.undo(new Set([1]));
    const retried = sums.convert([point('a', start, start + 20, 25), point('b', start, start + 20, 5)], STARTED_AT + 40);
    assert.deepEqual(retried.verdicts, [{ delta: [15] }, { delta: [5] }]);
  });
});
