import type { NewAnomaly } from './anomaly-store.repository.js';
import type { ObserveRequest, ObserveResult, SeriesToLoad } from './detection/series-detector-set.js';
import type { SeriesPoint } from './series-identity.js';
import type { ModelledSeries } from './series-models.js';

/**
 * The points of one observe request to the DetectionThread, with the series and log entry of each,
 * so that the result (indexed by point) can be read back into series counters and anomaly rows.
 * Points travel as typed arrays: the thread copies them rather than a list of objects.
 */
export class PointsToObserve {
  readonly series: ModelledSeries[] = [];
  private readonly logIds: number[] = [];
  private readonly handles: Int32Array;
  private readonly timestamps: Float64Array;
  private readonly values: Float64Array;

  /** `capacity`: the most points that will be added (a batch's entry count). */
  constructor(capacity: number) {
    this.handles = new Int32Array(capacity);
    this.timestamps = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.series.length;
  }

  add(series: ModelledSeries, logId: number, point: SeriesPoint): void {
    const index = this.series.length;
    this.series.push(series);
    this.logIds.push(logId);
    this.handles[index] = series.handle;
    this.timestamps[index] = point.timestamp;
    this.values[index] = point.value;
  }

  /**
   * The request: load these detectors, run the points in order, then snapshot `snapshot` and drop
   * `drop` (evicted series, dropped after their points in this request).
   */
  request(load: SeriesToLoad[], snapshot: readonly ModelledSeries[], drop: number[] = []): ObserveRequest {
    const size = this.size;
    return {
      load,
      drop,
      handles: this.handles.subarray(0, size),
      timestamps: this.timestamps.subarray(0, size),
      values: this.values.subarray(0, size),
      snapshot: snapshot.map((series) => series.handle),
    };
  }

  /** Counts each modelled point and each anomaly into its series; returns the anomalies of series not muted. */
  judged(result: ObserveResult): NewAnomaly[] {
    for (let index = 0; index < result.modelled.length; index++) if (result.modelled[index] === 1) this.series[index]!.counters.modelled++;
    const anomalies: NewAnomaly[] = [];
    for (const { index, score, expected, severity, methods } of result.anomalies) {
      const series = this.series[index]!;
      if (series.muted) continue;
      series.counters.anomalies++;
      anomalies.push({
        logId: this.logIds[index]!,
        seriesId: series.id,
        metric: series.metric,
        tags: series.tags,
        pointTime: this.timestamps[index]!,
        value: this.values[index]!,
        score,
        expected,
        severity,
        methods,
      });
    }
    return anomalies;
  }
}
