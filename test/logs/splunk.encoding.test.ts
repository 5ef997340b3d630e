import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyHecAnswer } from '../../src/logs/splunk/splunk.classification.js';
import { encodeHecBatch, toHecEvent } from '../../src/logs/splunk/splunk.encoding.js';
import { splitConcatenatedJson } from '../fakes/splunk-hec.fake.js';
import { logEntry } from './log-entries.js';

const NOW = Date.UTC(2026, 0, 1);

describe('Splunk HEC encoding', () => {
  test('an event: fractional seconds, host, source, sourcetype _json, index, the log fields', () => {
    const event = toHecEvent(
      { message: 'boom', level: 'error', timestamp: 1_767_225_600_123, service: 'billing', requestId: 'r1', durationMs: 4 },
      { host: 'vigil-1', environment: 'prod', index: 'app_logs' },
    );
    assert.deepEqual(event, {
      time: 1_767_225_600.123,
      host: 'vigil-1',
      source: 'billing',
      sourcetype: '_json',
      index: 'app_logs',
      event: {
        message: 'boom',
        level: 'error',
        service: 'billing',
        environment: 'prod',
        user_id: null,
        request_id: 'r1',
        trace_id: null,
        duration_ms: 4,
        attributes: {},
      },
    });
    assert.equal(JSON.stringify(event.time), '1767225600.123');
    const noIndex = toHecEvent({ message: 'm', level: 'info', timestamp: 0 }, { host: 'h', environment: 'e' });
    assert.equal('index' in noIndex, false, 'no index: the token’s default applies');
    assert.equal(noIndex.source, 'vigil');
  });

  test('a batch is concatenated JSON objects, not an array', () => {
    const entries = [1, 2, 3].map((id) => logEntry(id, { message: `m${id} with "quotes" and }`, level: 'info', timestamp: NOW + id }));
    const body = encodeHecBatch(entries, { host: 'h', environment: 'e' });
    assert.equal(body.startsWith('{'), true);
    const split = splitConcatenatedJson(body);
    assert.ok('events' in split);
    assert.deepEqual(
      split.events.map((event) => (event['event'] as { message: string }).message),
      ['m1 with "quotes" and }', 'm2 with "quotes" and }', 'm3 with "quotes" and }'],
    );
  });
});

describe('HEC answer classification', () => {
  const classify = (status: number, body: unknown, retryAfter?: string) =>
    classifyHecAnswer(status, typeof body === 'string' ? body : JSON.stringify(body), retryAfter, NOW);

  test('success', () => {
    assert.deepEqual(classify(200, { text: 'Success', code: 0 }), { outcome: 'delivered' });
    assert.deepEqual(classify(200, ''), { outcome: 'delivered' });
  });

  test('server busy and unhealthy are retried, with Retry-After as throttling', () => {
    assert.deepEqual(classify(503, { text: 'Server is busy', code: 9 }), { outcome: 'retryable', reason: 'HEC answered 503, code 9: Server is busy', status: 503 });
    assert.deepEqual(classify(503, { text: 'Server is busy', code: 9 }, '30'), {
      outcome: 'throttled',
      reason: 'HEC answered 503, code 9: Server is busy',
      status: 503,
      retryAfterMs: 30_000,
    });
    assert.equal(classify(503, { text: 'HEC is unhealthy, queues are full', code: 18 }).outcome, 'retryable');
    assert.equal(classify(500, { text: 'Internal server error', code: 8 }).outcome, 'retryable');
  });

  test('token and index problems are retried as configuration with HEC’s words: they refuse the setting, not the events', () => {
    for (const [status, code, text] of [
      [403, 1, 'Token disabled'],
      [401, 2, 'Token is required'],
      [401, 3, 'Invalid authorization'],
      [403, 4, 'Invalid token'],
      [400, 7, 'Incorrect index'],
    ] as const) {
      assert.deepEqual(classify(status, { text, code }), { outcome: 'retryable', reason: `HEC answered ${status}, code ${code}: ${text}`, status, cause: 'configuration' }, text);
    }
  });

  test('invalid data is permanent with HEC’s words', () => {
    for (const [status, code, text] of [
      [400, 5, 'No data'],
      [400, 12, 'Event field is required'],
    ] as const) {
      assert.deepEqual(classify(status, { text, code }), { outcome: 'permanent', reason: `HEC answered ${status}, code ${code}: ${text}`, status }, text);
    }
    assert.deepEqual(classify(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': 3 }), {
      outcome: 'permanent',
      reason: 'HEC answered 400, code 6: Invalid data format (invalid-event-number 3)',
      status: 400,
    });
  });

  test('413 lets the core split; 429 throttles; unknown codes and non-JSON bodies fall back to the HTTP status', () => {
    assert.equal(classify(413, 'Content too large').outcome, 'too_large');
    assert.equal(classify(429, { text: 'slow down', code: 99 }).outcome, 'throttled');
    assert.deepEqual(classify(502, '<html>Bad Gateway</html>'), { outcome: 'retryable', reason: 'HEC answered 502: <html>Bad Gateway</html>', status: 502 });
    // A wrong SPLUNK_HEC_URL path: a setting to fix, retried.
    assert.deepEqual(classify(404, { text: 'The requested URL was not found on this server.', code: 404 }), {
      outcome: 'retryable',
      reason: 'HEC answered 404, code 404: The requested URL was not found on this server.',
      status: 404,
      cause: 'configuration',
    });
  });
});
