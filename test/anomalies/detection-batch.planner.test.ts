/**
 * planBatch and detectedBatch alone (no store, no thread): the cap's refusals and evictions by data
 * time, snapshot decisions, and what a batch writes. A unit test: no database, no worker.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ObserveResult } from '../../src/anomalies/detection/series-detector-set.js';
import { SNAPSHOT_EVERY_POINTS, detectedBatch, planBatch, type DetectionPolicy } from '../../src/anomalies/detection-batch.planner.js';
import { SeriesModels } from '../../src/anomalies/series-models.js';
import type { LogEntry } from '../../src/ingest-log/log-entry.js';

const NOW = 1_000_000;

function metric(id: number, name: string, timestamp: number, value = 1): LogEntry {
  return { id, kind: 'metric', receivedAt: NOW, eventTime: timestamp, payload: { name, value, type: 'gauge', tags: {}, timestamp }, bytes: 10 };
}

/** The thread's answer to a plan: every point modelled, no anomaly, no warm-up passed, the requested snapshots. */
function answered(plan: ReturnType<typeof planBatch>): ObserveResult {
  return {
    modelled: new Uint8Array(plan.request.handles.length).fill(1),
    anomalies: [],
    ready: [],
    snapshots: plan.request.snapshot.map((handle) => ({ handle, state: '{}', trained: false })),
  };
}

describe('detection batch planning', () => {
  const policy: DetectionPolicy = { maxSeries: 2, idleMs: 1000, muted: new Set(['quiet']) };

  test('at the cap a new series is refused until the idlest series is idle the idle time in data time, then evicts it', () => {
    const models = new SeriesModels();
    const refused = new Set<string>();
    const first = planBatch(models, [metric(1, 'a', 0), metric(2, 'b', 0), metric(3, 'c', 999)], NOW, policy, refused);
    models.releaseHandles(first.drop);
    assert.equal(models.series.size, 2);
    assert.equal(models.pointsOverCap, 1);
    assert.equal(refused.size, 1);
    assert.deepEqual(first.evictedIds, []);
    assert.equal(models.dataTime, 999);
    const firstBatch = detectedBatch(models, first, answered(first));
    assert.equal(firstBatch.rows.length, 2, 'a creation row per new series');
    assert.deepEqual(
      firstBatch.rows.map((row) => row.snapshotId),
      [0, 1],
    );
    assert.equal(firstBatch.pointsOverCap, 1);
    assert.equal(firstBatch.seriesEvicted, undefined);

    const idlest = models.find(['m', 'a']);
    assert.ok(typeof idlest !== 'string');
    const second = planBatch(models, [metric(4, 'c', 1000)], NOW, policy, refused);
    assert.deepEqual(second.evictedIds, [idlest.id]);
    assert.deepEqual(second.drop, [idlest.handle]);
    assert.deepEqual([...models.series.keys()].sort(), ['m\u0000b', 'm\u0000c']);
    const newcomer = models.find(['m', 'c']);
    assert.ok(typeof newcomer !== 'string');
    assert.notEqual(newcomer.handle, idlest.handle, 'the evicted handle is free only once the request dropping it was sent');
    const secondBatch = detectedBatch(models, second, answered(second));
    assert.equal(secondBatch.seriesEvicted, 1);
    assert.equal(secondBatch.pointsOverCap, undefined, 'unchanged: not written again');
    assert.equal(secondBatch.dataTime, 1000);
  });

  test('a touched series is snapshotted as of the batch end after SNAPSHOT_EVERY_POINTS points; the replay floor is the lowest dirty snapshot', () => {
    const models = new SeriesModels();
    const wide = { ...policy, maxSeries: 10 };
    const entries = Array.from({ length: SNAPSHOT_EVERY_POINTS }, (_unused, index) => metric(index + 1, 'busy', index));
    entries.push(metric(SNAPSHOT_EVERY_POINTS + 1, 'calm', 0));
    const plan = planBatch(models, entries, NOW, wide, new Set());
    assert.equal(plan.snapshotted.length, 1);
    assert.equal(plan.snapshotted[0]!.metric, 'busy');
    assert.equal(plan.snapshotted[0]!.snapshotId, SNAPSHOT_EVERY_POINTS + 1);
    assert.equal(plan.replayFrom, SNAPSHOT_EVERY_POINTS, 'calm is dirty since the entry before its first point');
    detectedBatch(models, plan, answered(plan));

    const calm = models.find(['m', 'calm']);
    assert.ok(typeof calm !== 'string');
    const next = planBatch(models, [metric(SNAPSHOT_EVERY_POINTS + 2, 'calm', 1)], NOW, wide, new Set());
    assert.deepEqual(next.snapshotted, [], 'calm has 2 points not snapshotted: not due');
    assert.equal(next.replayFrom, SNAPSHOT_EVERY_POINTS, 'calm is still dirty since the entry before its first point');
    assert.equal(calm.pointsSinceSnapshot, 2);
  });
});
