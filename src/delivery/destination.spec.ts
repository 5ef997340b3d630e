import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyHttpStatus } from './destination.js';

const NOW = Date.UTC(2026, 0, 1, 12);

describe('classifyHttpStatus', () => {
  test('401, 403 and 404 refuse the credentials or URL, not the items: retryable with cause configuration', () => {
    for (const status of [401, 403, 404]) {
      assert.deepEqual(classifyHttpStatus(status, `refused ${status}`, undefined, NOW), { outcome: 'retryable', reason: `refused ${status}`, status, cause: 'configuration' });
    }
  });

  test('invalid items stay permanent; outages retryable; 429 throttled with Retry-After', () => {
    for (const status of [400, 409, 422, 501, 307]) assert.equal(classifyHttpStatus(status, 'x', undefined, NOW).outcome, 'permanent', String(status));
    for (const status of [408, 500, 502, 503]) assert.deepEqual(classifyHttpStatus(status, 'x', undefined, NOW), { outcome: 'retryable', reason: 'x', status });
    assert.deepEqual(classifyHttpStatus(429, 'x', '30', NOW), { outcome: 'throttled', reason: 'x', status: 429, retryAfterMs: 30_000 });
    assert.deepEqual(classifyHttpStatus(202, 'x', undefined, NOW), { outcome: 'delivered' });
  });
});
