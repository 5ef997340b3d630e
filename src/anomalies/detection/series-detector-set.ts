import { SeriesDetector, type DetectorSettings, type PointVerdict, type SeriesDetectorState } from './series-detector.js';

/**
 * A series' detector to bring into the set before a request uses it: its stored snapshot
 * (SeriesDetector.snapshot() as JSON), or null for a new series.
 */
export interface SeriesToLoad {
  handle: number;
  state: string | null;
}

/** Points to run through the detectors in order, then the snapshots to take. */
export interface ObserveRequest {
  load: SeriesToLoad[];
  /** Per point: the handle of its series, its timestamp and its value. */
  handles: Int32Array;
  timestamps: Float64Array;
  values: Float64Array;
  /** Series whose snapshot to return, taken after every point of this request. */
  snapshot: number[];
  /** Series to forget after the points (evicted): a later request may load another series under the handle. */
  drop?: number[];
}

export interface ObservedAnomaly extends Omit<PointVerdict, 'anomalous'> {
  /** Index of the point in the request. */
  index: number;
}

export interface ObserveResult {
  /** Per point: 1 when the detector used it (in order, finite), else 0. */
  modelled: Uint8Array;
  /** The points judged anomalous, in order. */
  anomalies: ObservedAnomaly[];
  /** Series whose detector passed its warm-up with a point of this request. */
  ready: number[];
  /** The requested snapshots; `trained` says the detector is past its warm-up. */
  snapshots: Array<{ handle: number; state: string; trained: boolean }>;
}

/**
 * The detectors of every modelled series, by a numeric handle the caller assigns. It holds
 * all detector state and does all detector work (points, snapshots), so it
 * can run on a thread of its own (series-detector-set.worker.ts): the caller keeps only
 * bookkeeping and sends it points as typed arrays.
 *
 * Contract: requests are handled one at a time, in the order sent, each to completion. A
 * request naming a handle that is neither held nor loaded by it throws (the caller lost
 * track, e.g. after this set's thread was replaced): the caller must reset and reload.
 */
export class SeriesDetectorSet {
  private settings: DetectorSettings | undefined;
  private readonly detectors = new Map<number, SeriesDetector>();

  /** Forgets every detector; the settings apply to the detectors loaded from now on. */
  reset(settings: DetectorSettings): void {
    this.settings = settings;
    this.detectors.clear();
  }

  get size(): number {
    return this.detectors.size;
  }

  observe(request: ObserveRequest): ObserveResult {
    this.load(request.load);
    const { handles, timestamps, values } = request;
    const modelled = new Uint8Array(handles.length);
    const anomalies: ObservedAnomaly[] = [];
    const ready: number[] = [];
    for (let index = 0; index < handles.length; index++) {
      const handle = handles[index]!;
      const detector = this.detectorOf(handle);
      const before = detector.pointsSeen;
      const wasReady = detector.ready;
      const verdict = detector.observe(timestamps[index]!, values[index]!);
      if (detector.pointsSeen === before) continue;
      modelled[index] = 1;
      if (!wasReady && detector.ready) ready.push(handle);
      if (verdict.anomalous) {
        anomalies.push({ index, score: verdict.score, expected: verdict.expected, severity: verdict.severity, methods: verdict.methods });
      }
    }
    for (const handle of request.drop ?? []) this.detectors.delete(handle);
    const snapshots = request.snapshot.map((handle) => {
      const detector = this.detectorOf(handle);
      return { handle, state: JSON.stringify(detector.snapshot()), trained: detector.ready };
    });
    return { modelled, anomalies, ready, snapshots };
  }

  private load(series: readonly SeriesToLoad[]): void {
    const settings = this.settings;
    if (!settings) throw new Error('the detector set was not reset since it started');
    for (const { handle, state } of series) {
      // A snapshot of an earlier detector version restores as null: that series starts anew.
      const restored = state === null ? null : SeriesDetector.restore(settings, JSON.parse(state) as SeriesDetectorState);
      this.detectors.set(handle, restored ?? SeriesDetector.create(settings));
    }
  }

  private detectorOf(handle: number): SeriesDetector {
    const detector = this.detectors.get(handle);
    if (!detector) throw new Error(`series handle ${handle} is not loaded`);
    return detector;
  }
}
