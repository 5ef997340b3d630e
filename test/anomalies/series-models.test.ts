import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SeriesDetectorSet } from '../../src/anomalies/detection/series-detector-set.js';
import { emptyCounters } from '../../src/anomalies/series-counters.js';
import { identityText, seriesIdentity } from '../../src/anomalies/series-identity.js';
import { SeriesModels, type ModelledSeries } from '../../src/anomalies/series-models.js';

function add(models: SeriesModels, metric: string): ModelledSeries {
  const identity = seriesIdentity('metric', metric, {});
  const series: ModelledSeries = {
    key: identityText(identity),
    identity,
    id: metric,
    source: 'metric',
    metric,
    tags: {},
    muted: false,
    handle: models.nextHandle(),
    loaded: false,
    storedState: null,
    counters: emptyCounters(),
    trained: false,
    snapshotId: 0,
    dirty: false,
    dirtySince: 0,
    pointsSinceSnapshot: 0,
    lastPointId: 0,
    newestPointTime: Number.NEGATIVE_INFINITY,
  };
  models.add(series);
  return series;
}

describe('SeriesModels eviction order', () => {
  test('the candidate is the series touched least recently, evictable only once its newest point is idleMs older than the data time', () => {
    const models = new SeriesModels();
    const a = add(models, 'a');
    const b = add(models, 'b');
    const c = add(models, 'c');
    models.touch(a, 1, 1000);
    models.touch(b, 2, 2000);
    models.touch(c, 3, 3000);
    models.touch(a, 4, 4000);
    // Order now b, c, a. Data time 2999 + 1000: b is 999 ms short of 1 s... then exactly 1 s idle.
    models.dataTime = 2999;
    assert.equal(models.idlest(1000), undefined);
    models.dataTime = 3000;
    assert.equal(models.idlest(1000), b);
    // A late point (older timestamp) still touches: b moves to the end, its newest time stays 2000.
    models.touch(b, 5, 500);
    assert.equal(b.newestPointTime, 2000);
    assert.equal(models.idlest(0), c);
    models.evict(c);
    assert.equal(models.holds(c), false);
    assert.equal(models.find(c.identity), c.key, 'the evicted series is no longer found');
    assert.equal(models.byHandle[c.handle], undefined);
    models.dataTime = 10_000;
    assert.equal(models.idlest(6000), a);
    assert.equal(models.idlest(6001), undefined);
  });

  test("an evicted series' handle is reused only after the request dropping it was sent", () => {
    const models = new SeriesModels();
    const a = add(models, 'a');
    add(models, 'b');
    models.evict(a);
    assert.equal(models.nextHandle(), 2, 'not yet released');
    const drop = models.takeEvictedHandles();
    assert.deepEqual(drop, [a.handle]);
    assert.deepEqual(models.takeEvictedHandles(), []);
    models.releaseHandles(drop);
    const c = add(models, 'c');
    assert.equal(c.handle, a.handle);
    assert.equal(models.byHandle[a.handle], c);
  });

  test('a reload restores the order by last point id, whatever order the rows came in', () => {
    const models = new SeriesModels();
    const z = add(models, 'z');
    const y = add(models, 'y');
    const x = add(models, 'x');
    z.lastPointId = 30;
    y.lastPointId = 10;
    x.lastPointId = 20;
    models.dataTime = 0;
    models.orderByLastPoint();
    assert.equal(models.idlest(Number.NEGATIVE_INFINITY), y);
    models.evict(y);
    assert.equal(models.idlest(Number.NEGATIVE_INFINITY), x);
  });
});

describe('SeriesDetectorSet drop', () => {
  test('a dropped series judges its points of the request, then is forgotten; its handle loads a new series later', () => {
    const set = new SeriesDetectorSet();
    set.reset({ sensitivity: 'medium' });
    const points = (handles: number[]) => ({
      handles: Int32Array.from(handles),
      timestamps: Float64Array.from(handles.map((_handle, index) => index * 1000)),
      values: Float64Array.from(handles.map(() => 1)),
    });
    const first = set.observe({ load: [{ handle: 0, state: null }, { handle: 1, state: null }], ...points([0, 1, 0]), snapshot: [1], drop: [0] });
    assert.deepEqual([...first.modelled], [1, 1, 1]);
    assert.equal(set.size, 1);
    assert.deepEqual(first.snapshots.map((snapshot) => snapshot.handle), [1]);
    assert.throws(() => set.observe({ load: [], ...points([0]), snapshot: [] }), /series handle 0 is not loaded/);
    const reused = set.observe({ load: [{ handle: 0, state: null }], ...points([0]), snapshot: [0] });
    assert.deepEqual([...reused.modelled], [1]);
    assert.equal(set.size, 2);
  });
});
