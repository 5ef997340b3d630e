import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';

for (const { name, make } of BOTH_DATABASES) {
  describe(`ingested metrics on /metrics (${name})`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_METRICS_MAX_SERIES: '3', VIGIL_METRICS_MAX_LABEL_VALUES: '2' });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    const scrape = async () => {
      const response = await fetch(`${vigil.url}/metrics`);
      assert.equal(response.status, 200);
      return response.text();
    };

    test('posted metrics appear as vigil_app_* series once committed, with the caps counted', async () => {
      const posted = await postJson(`${vigil.url}/ingest/metrics`, {
        metrics: [
          { name: 'cache.hits', value: 8, type: 'count', tags: { cache: 'redis' } },
          { name: 'cache.hits', value: 4, type: 'count', tags: { cache: 'redis' } },
          { name: 'cache.misses', value: 2, type: 'count', tags: { cache: 'redis' } },
          { name: 'cache.misses', value: 1, type: 'gauge', tags: { cache: 'redis' } },
          { name: 'api.response_time', value: 120, type: 'distribution', unit: 'ms' },
          { name: 'queue.size', value: 5 },
        ],
      });
      assert.equal(posted.status, 202);
      const text = await scrape();
      const lines = text.split('\n');
      assert.ok(lines.includes('vigil_app_cache_hits_total{cache="redis"} 12'));
      assert.ok(lines.includes('vigil_app_cache_misses_total{cache="redis"} 2'));
      assert.ok(lines.includes('vigil_app_api_response_time_seconds_bucket{le="0.25"} 1'));
      assert.ok(lines.includes('vigil_app_api_response_time_seconds_bucket{le="0.1"} 0'));
      assert.ok(lines.includes('vigil_app_api_response_time_seconds_sum 0.12'));
      assert.ok(lines.includes('# TYPE vigil_app_api_response_time_seconds histogram'));
      assert.ok(!text.includes('vigil_app_queue_size'), 'the fourth series is over VIGIL_METRICS_MAX_SERIES=3');
      assert.ok(lines.includes('vigil_metrics_dropped_series_total{reason="max_series"} 1'));
      assert.ok(lines.includes('vigil_metrics_dropped_series_total{reason="type_conflict"} 1'));
      assert.ok(lines.includes('vigil_metrics_reexposed_series 3'));
    });
  });

  describe(`re-exposed series evicted at the cap (${name})`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.now());
    before(async () => {
      database = await make();
      vigil = await startApp(
        { DATABASE_URL: database.url, VIGIL_METRICS_MAX_SERIES: '2', VIGIL_METRICS_SERIES_TTL_SECONDS: '600', VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS: '60' },
        { clock },
      );
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    const post = async (metrics: Array<{ name: string; value: number }>) => {
      const posted = await postJson(`${vigil.url}/ingest/metrics`, { metrics: metrics.map((metric) => ({ ...metric, timestamp: clock.now() })) });
      assert.equal(posted.status, 202, posted.text);
    };
    const scrape = async () => (await (await fetch(`${vigil.url}/metrics`)).text()).split('\n');

    test('a new series evicts the one idle at least VIGIL_METRICS_SERIES_MIN_IDLE_SECONDS; until then it is refused', async () => {
      await post([{ name: 'old.one', value: 1 }]);
      clock.advance(30_000);
      await post([{ name: 'kept.one', value: 2 }]);
      clock.advance(29_999);
      // old.one has been idle 59.999 s: the new series is refused.
      await post([{ name: 'new.one', value: 3 }]);
      let lines = await scrape();
      assert.ok(!lines.some((line) => line.startsWith('vigil_app_new_one')));
      assert.ok(lines.includes('vigil_metrics_dropped_series_total{reason="max_series"} 1'));
      assert.ok(lines.includes('vigil_metrics_series_evicted_total 0'));
      clock.advance(1);
      await post([{ name: 'new.one', value: 4 }]);
      lines = await scrape();
      assert.ok(lines.includes('vigil_app_new_one 4'));
      assert.ok(lines.includes('vigil_app_kept_one 2'));
      assert.ok(!lines.some((line) => line.startsWith('vigil_app_old_one')), 'the evicted series is gone');
      assert.ok(lines.includes('vigil_metrics_series_evicted_total 1'));
      assert.ok(lines.includes('vigil_metrics_dropped_series_total{reason="max_series"} 1'));
      assert.ok(lines.includes('vigil_metrics_reexposed_series 2'));
    });
  });
}
