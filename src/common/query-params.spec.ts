import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTimeRange } from './query-params.js';

describe('parseTimeRange', () => {
  test('a date alone is the start of that UTC day as from and its last millisecond as to', () => {
    assert.deepEqual(parseTimeRange({ from: '2026-11-01', to: '2026-11-30' }), { from: Date.UTC(2026, 10, 1), to: Date.UTC(2026, 11, 1) - 1 });
    assert.deepEqual(parseTimeRange({ from: '2026-11-30', to: '2026-11-30' }), { from: Date.UTC(2026, 10, 30), to: Date.UTC(2026, 11, 1) - 1 });
  });

  test('date-times and epoch milliseconds are taken as given', () => {
    assert.deepEqual(parseTimeRange({ from: '2026-11-29T10:00:00Z', to: '2026-11-30T00:00' }).to, Date.UTC(2026, 10, 30));
    assert.deepEqual(parseTimeRange({ to: String(Date.UTC(2026, 10, 30)) }), { from: null, to: Date.UTC(2026, 10, 30) });
    assert.throws(() => parseTimeRange({ from: '2026-12-01', to: '2026-11-30' }), /from must not be after to/);
  });
});
