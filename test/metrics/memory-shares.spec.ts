import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config/app.config.js';
import { memorySharesOf } from '../../src/metrics/memory.metrics.js';

const MIB = 1024 * 1024;

describe('memory shares on /metrics', () => {
  test('/metrics shares: young generation 3 × semi-space, old generation, window, bodies in flight, the worker old + young, the SQLite page cache', () => {
    assert.deepEqual(memorySharesOf(loadConfig({})), {
      young_generation: 48 * MIB,
      old_generation: 172 * MIB,
      recent_entries: 25_165_824,
      request_bodies: 25_165_824,
      detection_worker: 56 * MIB,
      sqlite_page_cache: 64 * MIB,
    });
  });

  test('on Postgres no SQLite page cache is shared out', () => {
    const shares = memorySharesOf(loadConfig({ DATABASE_URL: 'postgres://127.0.0.1/test' }));
    assert.equal(shares['sqlite_page_cache'], undefined);
    assert.equal(shares['old_generation'], 172 * MIB);
  });

  test('a budget of 1024 MiB with its own bound on bodies in flight', () => {
    assert.deepEqual(memorySharesOf(loadConfig({ VIGIL_MEMORY_BUDGET_MB: '1024', VIGIL_MAX_BODY_BYTES_IN_FLIGHT: '10000000' })), {
      young_generation: 3 * 42 * MIB,
      old_generation: 460 * MIB,
      recent_entries: 67_108_864,
      request_bodies: 10_000_000,
      detection_worker: (128 + 16) * MIB,
      // 1024 MiB / 6, rounded down to a byte.
      sqlite_page_cache: 178_956_970,
    });
  });
});
