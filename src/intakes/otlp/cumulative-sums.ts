import { rebucket, sameBounds } from '../../common/histogram-buckets.js';

/**
 * One point of a monotonic cumulative series: its series, its run's start and its time (Unix ns),
 * and its values: one for a sum; for a histogram its count, sum and bucket counts (the series
 * identity includes the bucket bounds).
 */
export interface CumulativePoint {
  series: string;
  startNanos: bigint;
  timeNanos: bigint;
  values: readonly number[];
  /** A histogram's bounds: they may change within a run (an exponential histogram rescales). */
  bounds?: readonly number[];
}

/** What a point adds: the increase of each value, or nothing and why. */
export type CumulativeVerdict = { delta: number[] } | { skipped: 'repeat' | 'older_run' | 'baseline' } | { refused: string };

interface SeriesState {
  startNanos: bigint;
  timeNanos: bigint;
  values: readonly number[];
  bounds?: readonly number[];
  seenAt: number;
}

export interface CumulativeSumLimits {
  /** Series tracked at once; a point of a new series past it is refused (partialSuccess). */
  maxSeries: number;
  /** A series not seen for this long is forgotten. */
  idleMs: number;
}

export const DEFAULT_CUMULATIVE_SUM_LIMITS: CumulativeSumLimits = { maxSeries: 100_000, idleMs: 6 * 3_600_000 };

/** Undoes what `convert` recorded for points that were not committed. */
export type CumulativeUndo = (indices?: ReadonlySet<number>) => void;

/**
 * Monotonic cumulative sums and histograms → deltas, per series (metric name, unit, tags; for a
 * histogram also its bounds). The rules:
 * - a later point of the same run (same start time) adds `values − previous` (a value smaller
 *   than before, the sum of a histogram aside, without a new start time is a reset: it adds
 *   `values`); a point at or before the last one
 *   seen (a repeat, such as the exporter's final flush) adds nothing;
 * - a point with a later start time is a new run of the sender: it adds its whole value;
 *   a point of an earlier run than the one tracked adds nothing;
 * - the first point of an unknown series adds its whole value when its run started at or
 *   after the horizon (the moment from which this state has seen every point), and only sets
 *   the baseline otherwise. The horizon is this process's start, moved forward whenever a
 *   series is forgotten (idle expiry): a series that comes back after being forgotten, or that
 *   ran before Vigil started, is never counted twice; what it counted while unseen is lost.
 *
 * Bounded: at most `maxSeries` series (a point of a new series past that is refused, counted by
 * `onRefused`); a series idle for `idleMs` is forgotten (`onForgotten`). The state lives in
 * this process: a restart of Vigil loses it, and the horizon rule above keeps the restart from
 * counting anything twice, at the cost of the increments between a series' last point before
 * the restart and its first after: at most once across a restart. A series must reach one
 * replica: each replica's state is its own. (ARCHITECTURE.md, "Cumulative sums", says why the
 * state lives here and what exactly-once would take.)
 *
 * The state moves when a point is converted, before its delta is committed, so that two
 * exports in flight for one series are ordered; `convert` returns an undo for the points whose
 * deltas were not committed (a refused or failed ingest, or items ingest rejected).
 */
export class CumulativeSums {
  private readonly series = new Map<string, SeriesState>();
  private horizonNanos: bigint;

  constructor(
    startedAtMs: number,
    private readonly limits: CumulativeSumLimits = DEFAULT_CUMULATIVE_SUM_LIMITS,
    private readonly onRefused: () => void = () => {},
    private readonly onForgotten: (count: number) => void = () => {},
  ) {
    this.horizonNanos = BigInt(Math.floor(startedAtMs)) * 1_000_000n;
  }

  get size(): number {
    return this.series.size;
  }

  /** The verdict of each point, in order, and the undo of the state they moved. */
  convert(points: readonly CumulativePoint[], nowMs: number): { verdicts: CumulativeVerdict[]; undo: CumulativeUndo } {
    this.forgetIdle(nowMs);
    const undone: Array<{ index: number; series: string; before: SeriesState | undefined; after: SeriesState }> = [];
    const verdicts = points.map((point, index): CumulativeVerdict => {
      const before = this.series.get(point.series);
      if (before === undefined && this.series.size >= this.limits.maxSeries) {
        this.onRefused();
        return { refused: `more than ${this.limits.maxSeries} cumulative series are tracked` };
      }
      const { verdict, state } = step(before, point, this.horizonNanos);
      if (state === before) {
        if (before !== undefined) this.touch(point.series, before, nowMs);
        return verdict;
      }
      state.seenAt = nowMs;
      this.series.delete(point.series);
      this.series.set(point.series, state);
      undone.push({ index, series: point.series, before, after: state });
      return verdict;
    });
    const undo: CumulativeUndo = (indices) => {
      for (let at = undone.length - 1; at >= 0; at--) {
        const { index, series, before, after } = undone[at]!;
        if (indices !== undefined && !indices.has(index)) continue;
        if (this.series.get(series) !== after) continue;
        if (before === undefined) this.series.delete(series);
        else this.series.set(series, before);
      }
    };
    return { verdicts, undo };
  }

  private touch(series: string, state: SeriesState, nowMs: number): void {
    state.seenAt = nowMs;
    this.series.delete(series);
    this.series.set(series, state);
  }

  /** Series are kept in the order they were last seen: the idle ones are at the front. */
  private forgetIdle(nowMs: number): void {
    let forgotten = 0;
    for (const [series, state] of this.series) {
      if (nowMs - state.seenAt < this.limits.idleMs) break;
      this.series.delete(series);
      forgotten++;
    }
    if (forgotten === 0) return;
    const nowNanos = BigInt(Math.floor(nowMs)) * 1_000_000n;
    if (nowNanos > this.horizonNanos) this.horizonNanos = nowNanos;
    this.onForgotten(forgotten);
  }
}

/** The rules of CumulativeSums for one point: its verdict, and the series' state after it (the same object when unchanged). */
function step(before: SeriesState | undefined, point: CumulativePoint, horizonNanos: bigint): { verdict: CumulativeVerdict; state: SeriesState } {
  const after: SeriesState = { startNanos: point.startNanos, timeNanos: point.timeNanos, values: point.values, seenAt: 0 };
  if (point.bounds !== undefined) after.bounds = point.bounds;
  if (before === undefined) {
    const known = point.startNanos !== 0n && point.startNanos >= horizonNanos;
    return { verdict: known ? { delta: [...point.values] } : { skipped: 'baseline' }, state: after };
  }
  if (point.startNanos > before.startNanos) return { verdict: { delta: [...point.values] }, state: after };
  if (point.startNanos < before.startNanos) return { verdict: { skipped: 'older_run' }, state: before };
  if (point.timeNanos <= before.timeNanos) return { verdict: { skipped: 'repeat' }, state: before };
  return { verdict: { delta: increase(onBoundsOf(before, point), point.values) }, state: after };
}

/** The previous histogram's values on the point's bounds when they changed (re-bucketed: exact for an exponential rescale). */
function onBoundsOf(before: SeriesState, point: CumulativePoint): readonly number[] {
  if (before.bounds === undefined || point.bounds === undefined || sameBounds(before.bounds, point.bounds)) return before.values;
  return [before.values[0]!, before.values[1]!, ...rebucket(before.values.slice(2), before.bounds, point.bounds)];
}

/**
 * `values − previous`, or `values` whole after a reset: a value below its previous one, or a
 * different number of values. For a histogram ([count, sum, ...buckets]) the sum is left out of
 * the test: it falls when negative values are observed.
 */
function increase(previous: readonly number[], values: readonly number[]): number[] {
  const histogram = values.length > 1;
  let reset = previous.length !== values.length;
  for (let index = 0; index < values.length && !reset; index++) {
    if (!(histogram && index === 1) && values[index]! < previous[index]!) reset = true;
  }
  return reset ? [...values] : values.map((value, index) => value - previous[index]!);
}
