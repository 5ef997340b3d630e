import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeliveredCounts, SeriesPoints, parseRateLimitReset } from './datadog.destination.js';

describe('SeriesPoints', () => {
  test('counts sharing metric, tag set and second are summed into one point; other seconds and tags stay apart', () => {
    const points = new SeriesPoints();
    points.add({ metric: 'jobs', type: 'count', interval: 10, tags: ['queue:a', 'env:prod'], timestamp: 100, value: 1, indices: [0] });
    points.add({ metric: 'jobs', type: 'count', interval: 10, tags: ['env:prod', 'Queue:a'], timestamp: 100, value: 2, indices: [1] });
    points.add({ metric: 'jobs', type: 'count', interval: 10, tags: ['queue:b', 'env:prod'], timestamp: 100, value: 4, indices: [2] });
    points.add({ metric: 'jobs', type: 'count', interval: 10, tags: ['queue:a', 'env:prod'], timestamp: 101, value: 8, indices: [3] });
    assert.deepEqual(points.series(), [
      { metric: 'jobs', type: 1, interval: 10, points: [{ timestamp: 100, value: 3 }], tags: ['queue:a', 'env:prod'] },
      { metric: 'jobs', type: 1, interval: 10, points: [{ timestamp: 100, value: 4 }], tags: ['queue:b', 'env:prod'] },
      { metric: 'jobs', type: 1, interval: 10, points: [{ timestamp: 101, value: 8 }], tags: ['queue:a', 'env:prod'] },
    ]);
    assert.deepEqual(points.indices(), [0, 1, 2, 3]);
  });

  test('gauges keep the last value of the second; a gauge and a count of one name are not mixed', () => {
    const points = new SeriesPoints();
    points.add({ metric: 'temperature', type: 'gauge', tags: [], timestamp: 100, value: 5, indices: [0] });
    points.add({ metric: 'temperature', type: 'gauge', tags: [], timestamp: 100, value: 7, unit: 'degree', indices: [1] });
    points.add({ metric: 'temperature', type: 'count', interval: 10, tags: [], timestamp: 100, value: 1, indices: [2] });
    assert.deepEqual(points.series(), [
      { metric: 'temperature', type: 3, points: [{ timestamp: 100, value: 7 }], tags: [], unit: 'degree' },
      { metric: 'temperature', type: 1, interval: 10, points: [{ timestamp: 100, value: 1 }], tags: [] },
    ]);
  });
});

describe('DeliveredCounts', () => {
  test('a count point of a second delivered before carries the running total; what the total holds is not added again', () => {
    const delivered = new DeliveredCounts();
    const first = new SeriesPoints();
    first.add({ metric: 'jobs', type: 'count', interval: 10, tags: [], timestamp: 100, value: 2, indices: [0], lastId: 10 });
    first.add({ metric: 'temperature', type: 'gauge', tags: [], timestamp: 100, value: 20, indices: [1], lastId: 11 });
    const sentFirst = first.prepare(delivered);
    assert.deepEqual(sentFirst.series.map((series) => series.points[0]!.value), [2, 20]);
    // Not recorded until Datadog accepted it: a retry sends the same value.
    assert.equal(first.prepare(delivered).series[0]!.points[0]!.value, 2);
    sentFirst.recordDelivered();
    // Retried whole after another part of its batch failed: already in the total.
    assert.equal(first.prepare(delivered).series[0]!.points[0]!.value, 2);
    const later = new SeriesPoints();
    later.add({ metric: 'jobs', type: 'count', interval: 10, tags: [], timestamp: 100, value: 5, indices: [0], lastId: 12 });
    later.add({ metric: 'jobs', type: 'count', interval: 10, tags: [], timestamp: 101, value: 1, indices: [1], lastId: 13 });
    const sentLater = later.prepare(delivered);
    assert.deepEqual(sentLater.series.map((series) => series.points[0]!.value), [7, 1]);
    sentLater.recordDelivered();
    assert.equal(delivered.size, 2, 'gauges are not remembered');
  });

  test('remembers at most its bound, forgetting the least recently delivered', () => {
    const delivered = new DeliveredCounts(2);
    for (const [key, lastId] of [['a', 1], ['b', 2], ['a', 3], ['c', 4]] as const) delivered.record(key, { value: 1, lastId });
    assert.equal(delivered.size, 2);
    assert.deepEqual(delivered.totalWith('b', []), { value: 0, lastId: 0 }, 'b was forgotten');
    assert.deepEqual(delivered.totalWith('a', [{ value: 1, lastId: 5 }]), { value: 2, lastId: 5 });
  });
});

describe('parseRateLimitReset', () => {
  test('seconds until the window resets, in milliseconds; absent or malformed is undefined', () => {
    assert.equal(parseRateLimitReset('45'), 45_000);
    assert.equal(parseRateLimitReset(' 0 '), 0);
    for (const header of [undefined, null, '', 'soon', '-3', '1.5']) assert.equal(parseRateLimitReset(header), undefined, String(header));
  });
});
