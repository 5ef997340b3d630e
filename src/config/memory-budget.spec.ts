import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigurationError, loadConfig } from './app.config.js';
import { memoryBudgetOf, nodeFlagsOf, parseMemoryBudget } from './memory-budget.js';

const MIB = 1024 * 1024;

describe('memory budget', () => {
  test('VIGIL_MEMORY_BUDGET_MB: unset or empty is 384; whole MiB from 256 to 65536; anything else a problem', () => {
    assert.deepEqual(parseMemoryBudget(undefined), { mebibytes: 384 });
    assert.deepEqual(parseMemoryBudget(' '), { mebibytes: 384 });
    assert.deepEqual(parseMemoryBudget('256'), { mebibytes: 256 });
    assert.deepEqual(parseMemoryBudget(' 1024 '), { mebibytes: 1024 });
    assert.deepEqual(parseMemoryBudget('65536'), { mebibytes: 65_536 });
    const range = { problem: 'VIGIL_MEMORY_BUDGET_MB must be between 256 and 65536' };
    assert.deepEqual(parseMemoryBudget('255'), range);
    assert.deepEqual(parseMemoryBudget('65537'), range);
    const whole = { problem: 'VIGIL_MEMORY_BUDGET_MB must be a whole number of MiB' };
    for (const raw of ['512MB', '-512', '0x200', '384.5', '1e3', 'lots']) assert.deepEqual(parseMemoryBudget(raw), whole, raw);
  });

  test('the shares of the default budget: 16 MiB semi-spaces, 172 MiB old generation, 24 MiB window, 24 MiB of bodies, a 64 MiB SQLite page cache, a 48 + 8 MiB worker', () => {
    assert.deepEqual(memoryBudgetOf(384), {
      totalBytes: 402_653_184,
      semiSpaceMebibytes: 16,
      oldSpaceMebibytes: 172,
      recentEntriesBytes: 25_165_824,
      bodyBytesInFlight: 25_165_824,
      sqlitePageCacheBytes: 64 * MIB,
      detectionWorker: { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 },
    });
    assert.deepEqual(nodeFlagsOf(memoryBudgetOf(384)), ['--max-semi-space-size=16', '--max-old-space-size=172', '--heap-growing-percent=200']);
  });

  test('shares scale with the budget, the semi-space within 4–64 MiB and the worker young generation up to 16 MiB', () => {
    const smallest = memoryBudgetOf(256);
    assert.equal(smallest.semiSpaceMebibytes, 10);
    assert.equal(smallest.oldSpaceMebibytes, 115);
    assert.equal(smallest.recentEntriesBytes, 16 * MIB);
    assert.equal(smallest.bodyBytesInFlight, 16 * MIB);
    assert.equal(smallest.sqlitePageCacheBytes, 44_739_242);
    assert.deepEqual(smallest.detectionWorker, { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 5 });
    const large = memoryBudgetOf(4096);
    assert.equal(large.semiSpaceMebibytes, 64);
    assert.equal(large.oldSpaceMebibytes, 1843);
    assert.equal(large.recentEntriesBytes, 256 * MIB);
    assert.equal(large.bodyBytesInFlight, 256 * MIB);
    assert.equal(large.sqlitePageCacheBytes, 715_827_882);
    assert.deepEqual(large.detectionWorker, { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 16 });
  });

  test('loadConfig: the budget and its share of bodies in flight, unless VIGIL_MAX_BODY_BYTES_IN_FLIGHT is set; a bad budget is listed', () => {
    assert.equal(loadConfig({}).memory.totalBytes, 384 * MIB);
    assert.equal(loadConfig({}).protections.maxBodyBytesInFlight, 25_165_824);
    const large = loadConfig({ VIGIL_MEMORY_BUDGET_MB: '1024' });
    assert.equal(large.memory.oldSpaceMebibytes, 460);
    assert.equal(large.protections.maxBodyBytesInFlight, 64 * MIB);
    assert.equal(loadConfig({ VIGIL_MEMORY_BUDGET_MB: '1024', VIGIL_MAX_BODY_BYTES_IN_FLIGHT: '10000000' }).protections.maxBodyBytesInFlight, 10_000_000);
    assert.throws(
      () => loadConfig({ VIGIL_MEMORY_BUDGET_MB: '128' }),
      (error: unknown) => error instanceof ConfigurationError && error.problems.length === 1 && error.problems[0] === 'VIGIL_MEMORY_BUDGET_MB must be between 256 and 65536',
    );
    // A body limit above the budget's share of bodies in flight must be met by a larger share.
    assert.throws(
      () => loadConfig({ VIGIL_MAX_BODY_BYTES: String(30 * MIB) }),
      (error: unknown) => error instanceof ConfigurationError && error.problems[0] === 'VIGIL_MAX_BODY_BYTES_IN_FLIGHT must not be less than VIGIL_MAX_BODY_BYTES (one largest body must fit)',
    );
  });

  test('the default anomaly series cap is what three quarters of the detection worker\'s share holds, per method; VIGIL_ANOMALY_MAX_SERIES overrides it', () => {
    // 48 MiB at the default budget: 48 × 1024 × 3/4 KiB over 20 KiB (novelty), 12 KiB (likelihood), 800 KiB (forests).
    assert.equal(loadConfig({}).anomalies.maxSeries, 1_843);
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'likelihood' }).anomalies.maxSeries, 3_072);
    assert.equal(loadConfig({ VIGIL_ANOMALY_METHOD: 'ensemble' }).anomalies.maxSeries, 46);
    // 4096 MiB: 512 MiB for the worker would hold 19,660 novelty series; the default stops at 10,000.
    assert.equal(loadConfig({ VIGIL_MEMORY_BUDGET_MB: '4096' }).anomalies.maxSeries, 10_000);
    assert.equal(loadConfig({ VIGIL_ANOMALY_MAX_SERIES: '50000' }).anomalies.maxSeries, 50_000);
  });
});
