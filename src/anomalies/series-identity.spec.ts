import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LogEntry } from '../ingest-log/log-entry.js';
import { identityText, pointOf, REQUEST_LATENCY_METRIC, seriesIdentity } from './series-identity.js';

/** An entry of `kind` holding any payload: malformed ones included, which the log never holds but pointOf still refuses. */
function entry(kind: LogEntry['kind'], payload: unknown): LogEntry {
  return { id: 1, kind, receivedAt: 0, eventTime: 5, payload, bytes: 0 } as LogEntry;
}

describe('series identity', () => {
  test('tags are taken in name order, whatever order the item gave them in', () => {
    assert.deepEqual(seriesIdentity('metric', 'cpu', { zone: 'b', host: 'h1' }), ['m', 'cpu', 'host', 'h1', 'zone', 'b']);
    assert.deepEqual(seriesIdentity('metric', 'cpu', { host: 'h1', zone: 'b' }), ['m', 'cpu', 'host', 'h1', 'zone', 'b']);
    // Alternating orders: the memo of the last order must not leak into the next.
    assert.deepEqual(seriesIdentity('metric', 'cpu', { zone: 'c', host: 'h2' }), ['m', 'cpu', 'host', 'h2', 'zone', 'c']);
    assert.deepEqual(seriesIdentity('metric', 'cpu', { zone: 'c' }), ['m', 'cpu', 'zone', 'c']);
    assert.deepEqual(seriesIdentity('metric', 'cpu', {}), ['m', 'cpu']);
  });

  test('the stored text is the format series ids were hashed from', () => {
    assert.equal(identityText(seriesIdentity('metric', 'cpu', { zone: 'b', host: 'h1' })), 'm\u0000cpu\u0000host=h1\u0000zone=b');
    assert.equal(identityText(seriesIdentity('metric', 'cpu', {})), 'm\u0000cpu');
    assert.equal(identityText(seriesIdentity('request', REQUEST_LATENCY_METRIC, { service: 'api' })), 'r\u0000api');
  });

  test('points carry the identity of their series', () => {
    const metric = pointOf(entry('metric', { name: 'cpu', value: 3, tags: { b: '2', a: '1' } }));
    assert.deepEqual(metric, { identity: ['m', 'cpu', 'a', '1', 'b', '2'], source: 'metric', metric: 'cpu', tags: { b: '2', a: '1' }, timestamp: 5, value: 3 });
    const request = pointOf(entry('request', { service: 'api', durationMs: 12 }));
    assert.deepEqual(request, { identity: ['r', 'api'], source: 'request', metric: REQUEST_LATENCY_METRIC, tags: { service: 'api' }, timestamp: 5, value: 12 });
    assert.equal(pointOf(entry('log', { message: 'x' })), null);
    assert.equal(pointOf(entry('metric', { name: 'cpu' })), null);
  });
});
