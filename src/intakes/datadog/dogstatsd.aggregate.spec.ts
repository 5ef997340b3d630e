import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DogStatsdAggregator } from './dogstatsd.aggregate.js';

test('counts are summed (scaled by 1/rate) and gauges keep their last value, per series and interval', () => {
  const aggregator = new DogStatsdAggregator(100);
  const lines = ['hits:1|c|#route:/a,env:x', 'hits:2|c|#env:x,route:/a', 'hits:1|c|@0.25|#route:/a,env:x', 'hits:1:1|c', 'depth:7|g|#q:a', 'depth:3|g|#q:a', 'depth:5|g'];
  assert.deepEqual(lines.map((line) => aggregator.add(line)), lines.map(() => 'aggregated'));
  assert.deepEqual(aggregator.close(), [
    { name: 'hits', value: 7, type: 'count', tags: { route: '/a', env: 'x' } },
    { name: 'hits', value: 2, type: 'count', tags: {} },
    { name: 'depth', value: 3, type: 'gauge', tags: { q: 'a' } },
    { name: 'depth', value: 5, type: 'gauge', tags: {} },
  ]);
  assert.deepEqual(aggregator.close(), []);
});

test('samples, timestamped points, sets, events and service checks are left to the full parser; bad values are malformed', () => {
  const aggregator = new DogStatsdAggregator(100);
  for (const line of ['lat:1|h', 'lat:1|d', 'q:4|ms', 'u:x|s', 'hits:1|c|T1700000000', '_e{1,1}:a|b', '_sc|x|0', 'no bar']) {
    assert.equal(aggregator.add(line), 'not_aggregated', line);
  }
  for (const line of ['hits:abc|c', 'hits:|c', 'hits:1|c|@2', 'hits:1|c|@0']) assert.equal(aggregator.add(line), 'malformed', line);
  assert.equal(aggregator.size, 0);
});

test('past maxSeries a new series is refused as full (the listener closes the interval early); known series still add up', () => {
  const aggregator = new DogStatsdAggregator(2);
  assert.equal(aggregator.add('a:1|c'), 'aggregated');
  assert.equal(aggregator.add('b:1|c'), 'aggregated');
  assert.equal(aggregator.add('c:1|c'), 'full');
  assert.equal(aggregator.add('a:1|c'), 'aggregated');
  assert.deepEqual(aggregator.close().map((item) => [item['name'], item['value']]), [['a', 2], ['b', 1]]);
});
