import { FlatForest } from './forest.js';
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
  /** Series with points in this request, and not dropped by it, whose forest is due for training. */
  due: number[];
  /** The requested snapshots; `trained` says the detector has a forest. */
  snapshots: Array<{ handle: number; state: string; trained: boolean }>;
}

export interface TrainRequest {
  load: SeriesToLoad[];
  handles: number[];
}

export interface TrainResult {
  /** Series whose new forest is now in use. */
  trained: number[];
  /** Series whose training threw: they stay due. */
  failed: Array<{ handle: number; reason: string }>;
}

/**
 * The detectors of every modelled series, by a numeric handle the caller assigns. It holds
 * all detector state and does all detector work (points, snapshots, forest training), so it
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
    const touched = new Set<number>();
    for (let index = 0; index < handles.length; index++) {
      const handle = handles[index]!;
      const detector = this.detectorOf(handle);
      touched.add(handle);
      const before = detector.pointsSeen;
      const verdict = detector.observe(timestamps[index]!, values[index]!);
      if (detector.pointsSeen === before) continue;
      modelled[index] = 1;
      if (verdict.anomalous) {
        anomalies.push({ index, score: verdict.score, expected: verdict.expected, severity: verdict.severity, methods: verdict.methods });
      }
    }
    for (const handle of request.drop ?? []) {
      this.detectors.delete(handle);
      touched.delete(handle);
    }
    const due: number[] = [];
    for (const handle of touched) if (this.detectorOf(handle).isTrainingDue()) due.push(handle);
    const snapshots = request.snapshot.map((handle) => {
      const snapshot = this.detectorOf(handle).snapshot();
      return { handle, state: JSON.stringify(snapshot), trained: snapshot.model !== null };
    });
    return { modelled, anomalies, due, snapshots };
  }

  /** Retrains each named series whose forest is still due; a series not due is skipped. */
  train(request: TrainRequest): TrainResult {
    this.load(request.load);
    const trained: number[] = [];
    const failed: TrainResult['failed'] = [];
    for (const handle of request.handles) {
      const detector = this.detectorOf(handle);
      if (!detector.isTrainingDue()) continue;
      const model = detector.trainingRequest();
      if (!model) continue;
      try {
        detector.installModel(model, FlatForest.train(model.sample, model.seed).forest);
        trained.push(handle);
      } catch (error) {
        failed.push({ handle, reason: error instanceof Error ? error.message : String(error) });
      }
    }
    return { trained, failed };
  }

  private load(series: readonly SeriesToLoad[]): void {
    const settings = this.settings;
    if (!settings) throw new Error('the detector set was not reset since it started');
    for (const { handle, state } of series) {
      this.detectors.set(handle, state === null ? SeriesDetector.create(settings) : SeriesDetector.restore(settings, JSON.parse(state) as SeriesDetectorState));
    }
  }

  private detectorOf(handle: number): SeriesDetector {
    const detector = this.detectors.get(handle);
    if (!detector) throw new Error(`series handle ${handle} is not loaded`);
    return detector;
  }
}
