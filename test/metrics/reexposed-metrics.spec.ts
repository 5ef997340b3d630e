import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { ManualClock } from '../../src/common/clock.js';
import type { MetricItem } from '../../src/ingest-log/ingest-log.items.js';
import {
  exposedMetricName,
  sanitiseLabelName,
  sanitiseMetricName,
  toBaseUnit,
  unitConversion,
} from '../../src/metrics/exposition/metric-naming.js';
import { ReexposedMetrics, type ReexpositionLimits } from '../../src/metrics/exposition/reexposed-metrics.js';

const T0 = Date.UTC(2026, 0, 1);

function point(name: string, value: number, extra: Partial<MetricItem> = {}): MetricItem {
  return { name, value, type: 'gauge', timestamp: T0, tags: {}, ...extra };
}

function setup(limits: Partial<ReexpositionLimits> = {}) {
  const registry = new Registry();
  const clock = new ManualClock(T0);
  const metrics = new ReexposedMetrics(registry, clock, { maxSeries: 1000, maxLabelValuesPerMetric: 100, seriesTtlSeconds: 600, ...limits });
  /** The re-exposed sample lines only (no HELP/TYPE, no Vigil bookkeeping metrics). */
  const samples = async () =>
    (await registry.metrics()).split('\n').filter((line) => line.startsWith('vigil_app_'));
  const dropped = async () => {
    const json = await registry.getSingleMetric('vigil_metrics_dropped_series_total')!.get();
    return Object.fromEntries(json.values.map((value) => [String(value.labels['reason']), value.value]));
  };
  return { registry, clock, metrics, samples, dropped };
}

describe('names and units', () => {
  test('metric names are sanitised and prefixed, with base-unit and _total suffixes', () => {
    assert.equal(sanitiseMetricName('api.response_time'), 'api_response_time');
    assert.equal(sanitiseMetricName('a-b:c.d_E'), 'a_b_c_d_E');
    const none = unitConversion(undefined);
    assert.equal(exposedMetricName('api.response_time', 'gauge', none), 'vigil_app_api_response_time');
    assert.equal(exposedMetricName('cache.hits', 'count', none), 'vigil_app_cache_hits_total');
    assert.equal(exposedMetricName('jobs_total', 'count', none), 'vigil_app_jobs_total');
    assert.equal(exposedMetricName('api.response_time', 'distribution', unitConversion('ms')), 'vigil_app_api_response_time_seconds');
    assert.equal(exposedMetricName('db.query_ms', 'distribution', unitConversion('MS')), 'vigil_app_db_query_seconds');
    assert.equal(exposedMetricName('upload.size', 'count', unitConversion('KiB')), 'vigil_app_upload_size_bytes_total');
    assert.equal(exposedMetricName('cpu.pct', 'gauge', unitConversion('%')), 'vigil_app_cpu_ratio');
    assert.equal(exposedMetricName('rows', 'gauge', unitConversion('rows')), 'vigil_app_rows');
  });

  test('unit conversion to base units divides sub-units exactly', () => {
    assert.equal(toBaseUnit(250, unitConversion('ms')), 0.25);
    assert.equal(toBaseUnit(12.5, unitConversion('milliseconds')), 0.0125);
    assert.equal(toBaseUnit(1500, unitConversion('us')), 0.0015);
    assert.equal(toBaseUnit(2, unitConversion('min')), 120);
    assert.equal(toBaseUnit(3, unitConversion('KiB')), 3072);
    assert.equal(toBaseUnit(45, unitConversion('percent')), 0.45);
    assert.equal(toBaseUnit(7, unitConversion('widgets')), 7);
  });

  test("a unit named like one of Object.prototype's keys is no unit", () => {
    for (const unit of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.deepEqual(unitConversion(unit), { unitClass: 'none', factor: 1, source: unit.toLowerCase() });
    }
  });

  test('label names are sanitised and reserved names avoided', () => {
    assert.equal(sanitiseLabelName('endpoint'), 'endpoint');
    assert.equal(sanitiseLabelName('http.method'), 'http_method');
    assert.equal(sanitiseLabelName('le'), 'tag_le');
    assert.equal(sanitiseLabelName('quantile'), 'tag_quantile');
    assert.equal(sanitiseLabelName('job'), 'tag_job');
    assert.equal(sanitiseLabelName('instance'), 'tag_instance');
    assert.equal(sanitiseLabelName('__name__'), 'tag_name__');
    assert.equal(sanitiseLabelName('9lives'), '_9lives');
  });
});

describe('re-exposition', () => {
  test('exact exposition text for a known input', async () => {
    const { registry, metrics } = setup();
    metrics.observe([
      point('cache.hits', 3, { type: 'count', tags: { endpoint: '/users' } }),
      point('cache.hits', 2, { type: 'count', tags: { endpoint: '/users' } }),
      point('cache.hits', 1, { type: 'count', tags: { endpoint: 'a"b\\c' } }),
      point('api.response_time', 4, { type: 'distribution', unit: 'ms', tags: { le: 'x', 'http.method': 'GET' } }),
      point('api.response_time', 30, { type: 'distribution', unit: 'ms', tags: { le: 'x', 'http.method': 'GET' } }),
      point('api.response_time', 70000, { type: 'distribution', unit: 'ms', tags: { le: 'x', 'http.method': 'GET' } }),
      point('queue.depth', 7),
    ]);
    const text = (await registry.metrics()).split('\n\n').filter((block) => block.includes('vigil_app_')).join('\n\n');
    assert.equal(
      text,
      [
        '# HELP vigil_app_cache_hits_total Ingested metric cache.hits (count), re-exposed by Vigil',
        '# TYPE vigil_app_cache_hits_total counter',
        'vigil_app_cache_hits_total{endpoint="/users"} 5',
        'vigil_app_cache_hits_total{endpoint="a\\"b\\\\c"} 1',
        '',
        '# HELP vigil_app_api_response_time_seconds Ingested metric api.response_time (distribution, posted in ms, exposed in seconds), re-exposed by Vigil',
        '# TYPE vigil_app_api_response_time_seconds histogram',
        ...[
          ['0.001', 0], ['0.0025', 0], ['0.005', 1], ['0.01', 1], ['0.025', 1], ['0.05', 2], ['0.1', 2], ['0.25', 2], ['0.5', 2],
          ['1', 2], ['2.5', 2], ['5', 2], ['10', 2], ['30', 2], ['60', 2], ['+Inf', 3],
        ].map(([le, count]) => `vigil_app_api_response_time_seconds_bucket{le="${le}",http_method="GET",tag_le="x"} ${count}`),
        'vigil_app_api_response_time_seconds_sum{http_method="GET",tag_le="x"} 70.034',
        'vigil_app_api_response_time_seconds_count{http_method="GET",tag_le="x"} 3',
        '',
        '# HELP vigil_app_queue_depth Ingested metric queue.depth (gauge), re-exposed by Vigil',
        '# TYPE vigil_app_queue_depth gauge',
        'vigil_app_queue_depth 7\n',
      ].join('\n'),
    );
  });

  test('points whose tags come in different key orders, interleaved, land in the series of their own labels', async () => {
    const { metrics, samples } = setup();
    const shapes: Array<Record<string, string>> = [
      { host: 'a', region: 'eu' },
      { region: 'us', host: 'b' },
      { 'host.name': 'c', host: 'd' },
      { host: 'e' },
      {},
      { region: 'eu', host: 'a' },
    ];
    metrics.observe(shapes.map((tags, index) => point('load', index + 1, { tags })));
    assert.deepEqual((await samples()).sort(), [
      'vigil_app_load 5',
      'vigil_app_load{host="a",region="eu"} 6',
      'vigil_app_load{host="b",region="us"} 2',
      'vigil_app_load{host="d",host_name="c"} 3',
      'vigil_app_load{host="e"} 4',
    ]);
  });

  test('a gauge keeps the value of its newest point, even when points arrive out of order', async () => {
    const { metrics, samples } = setup();
    metrics.observe([point('temp', 5, { timestamp: T0 + 2000 }), point('temp', 9, { timestamp: T0 + 1000 })]);
    assert.deepEqual(await samples(), ['vigil_app_temp 5']);
    metrics.observe([point('temp', 6, { timestamp: T0 + 2000 })]);
    assert.deepEqual(await samples(), ['vigil_app_temp 6']);
  });

  test('a name used with a second type or unit is dropped and counted; a negative count is dropped', async () => {
    const { metrics, samples, dropped } = setup();
    metrics.observe([
      point('jobs', 2, { type: 'count' }),
      point('jobs', 1),
      point('jobs', 1, { type: 'count', unit: 'ms' }),
      point('jobs', -4, { type: 'count' }),
      point('jobs', 3, { type: 'count' }),
    ]);
    assert.deepEqual(await samples(), ['vigil_app_jobs_total 5']);
    const counts = await dropped();
    assert.equal(counts['type_conflict'], 2);
    assert.equal(counts['negative_count'], 1);
  });

  test('names that would render under another family are dropped as name_conflict', async () => {
    const { metrics, samples, dropped } = setup();
    metrics.observe([
      point('requests', 1, { type: 'count' }),
      point('requests_total', 1),
      point('latency', 5, { type: 'distribution' }),
      point('latency_bucket', 1),
      point('latency.count', 1),
    ]);
    assert.deepEqual((await samples()).filter((line) => !line.startsWith('vigil_app_latency_bucket')), [
      'vigil_app_requests_total 1',
      'vigil_app_latency_sum 5',
      'vigil_app_latency_count 1',
    ]);
    assert.equal((await dropped())['name_conflict'], 3);
  });

  test('the series cap drops points of new series and counts them; existing series keep updating', async () => {
    const { metrics, samples, dropped } = setup({ maxSeries: 3 });
    metrics.observe([1, 2, 3, 4, 5].map((host) => point('load', host, { tags: { host: `h${host}` } })));
    metrics.observe([point('other', 1), point('load', 10, { tags: { host: 'h1' } })]);
    assert.equal(metrics.size, 3);
    assert.deepEqual(await samples(), ['vigil_app_load{host="h1"} 10', 'vigil_app_load{host="h2"} 2', 'vigil_app_load{host="h3"} 3']);
    assert.equal((await dropped())['max_series'], 3);
  });

  test('the label-value cap is per metric and per label', async () => {
    const { metrics, samples, dropped } = setup({ maxLabelValuesPerMetric: 2 });
    metrics.observe([
      point('hits', 1, { type: 'count', tags: { user: 'a', region: 'eu' } }),
      point('hits', 1, { type: 'count', tags: { user: 'b', region: 'eu' } }),
      point('hits', 1, { type: 'count', tags: { user: 'c', region: 'eu' } }),
      point('hits', 1, { type: 'count', tags: { user: 'a', region: 'us' } }),
      point('hits', 1, { type: 'count', tags: { user: 'a', region: 'ap' } }),
      point('misses', 1, { type: 'count', tags: { user: 'c' } }),
    ]);
    assert.deepEqual(await samples(), [
      'vigil_app_hits_total{region="eu",user="a"} 1',
      'vigil_app_hits_total{region="eu",user="b"} 1',
      'vigil_app_hits_total{region="us",user="a"} 1',
      'vigil_app_misses_total{user="c"} 1',
    ]);
    assert.equal((await dropped())['max_label_values'], 2);
  });

  test('idle series expire after the TTL, freeing their slot and their label values', async () => {
    const { registry, clock, metrics, samples, dropped } = setup({ maxSeries: 2, maxLabelValuesPerMetric: 1, seriesTtlSeconds: 60 });
    metrics.observe([point('a', 1, { tags: { k: 'x' } }), point('b', 2)]);
    clock.advance(30_000);
    metrics.observe([point('b', 3)]);
    clock.advance(30_000);
    // a was last seen exactly 60 s ago: still live.
    assert.deepEqual(await samples(), ['vigil_app_a{k="x"} 1', 'vigil_app_b 3']);
    clock.advance(1);
    assert.deepEqual(await samples(), ['vigil_app_b 3']);
    assert.equal(registry.getSingleMetric('vigil_app_a'), undefined, 'the empty family is unregistered');
    assert.equal(metrics.size, 1);
    // The freed slot and label value take a new series without a drop.
    metrics.observe([point('a', 4, { tags: { k: 'y' } })]);
    assert.deepEqual(await samples(), ['vigil_app_b 3', 'vigil_app_a{k="y"} 4']);
    assert.equal((await dropped())['max_series'], 0);
    assert.equal((await dropped())['max_label_values'], 0);
    // Every series idle past the TTL is gone; a new point starts a fresh one.
    clock.advance(61_000);
    metrics.observe([point('b', 1, { type: 'gauge' })]);
    assert.deepEqual(await samples(), ['vigil_app_b 1']);
  });

  test('a series that expires while its family lives on comes back as a new series of that family', async () => {
    const { clock, metrics, samples } = setup({ seriesTtlSeconds: 60 });
    metrics.observe([point('load', 1, { tags: { k: 'x' } }), point('load', 2, { tags: { k: 'y' } })]);
    clock.advance(30_000);
    metrics.observe([point('load', 3, { tags: { k: 'y' } })]);
    clock.advance(31_000);
    metrics.sweep();
    assert.deepEqual(await samples(), ['vigil_app_load{k="y"} 3']);
    assert.equal(metrics.size, 1);
    metrics.observe([point('load', 4, { tags: { k: 'x' } })]);
    assert.deepEqual((await samples()).sort(), ['vigil_app_load{k="x"} 4', 'vigil_app_load{k="y"} 3']);
    assert.equal(metrics.size, 2);
  });

  test('a full store frees expired series before it drops a new one', async () => {
    const { clock, metrics, samples, dropped } = setup({ maxSeries: 1, seriesTtlSeconds: 10 });
    metrics.observe([point('a', 1)]);
    clock.advance(10_001);
    metrics.observe([point('b', 2)]);
    assert.deepEqual(await samples(), ['vigil_app_b 2']);
    assert.equal((await dropped())['max_series'], 0);
  });

  test('the series gauge reports what is held', async () => {
    const { registry, metrics } = setup();
    metrics.observe([point('a', 1), point('b', 1, { tags: { x: '1' } }), point('b', 1, { tags: { x: '2' } })]);
    assert.match(await registry.metrics(), /^vigil_metrics_reexposed_series 3$/m);
  });
});

describe('eviction at the series cap', () => {
  const evicted = async (registry: Registry) => (await registry.getSingleMetric('vigil_metrics_series_evicted_total')!.get()).values[0]!.value;

  test('a new series evicts the series idle longest once it has been idle the minimum time; before that it is refused', async () => {
    const { registry, clock, metrics, samples, dropped } = setup({ maxSeries: 3, seriesTtlSeconds: 600, seriesMinIdleSeconds: 60 });
    metrics.observe([point('a', 1)]);
    clock.advance(10_000);
    metrics.observe([point('b', 2), point('c', 3)]);
    clock.advance(10_000);
    // a is touched again: b and c (last seen at 10 s) are now the idlest, b first.
    metrics.observe([point('a', 4)]);
    clock.advance(49_999);
    // b has been idle 59.999 s: not yet evictable.
    metrics.observe([point('d', 5)]);
    assert.equal((await dropped())['max_series'], 1);
    assert.equal(await evicted(registry), 0);
    clock.advance(1);
    metrics.observe([point('d', 6), point('e', 7), point('f', 8)]);
    // d evicts b, e evicts c (both idle 60 s); f finds a, idle only 50 s: refused.
    assert.deepEqual(await samples(), ['vigil_app_a 4', 'vigil_app_d 6', 'vigil_app_e 7']);
    assert.equal(registry.getSingleMetric('vigil_app_b'), undefined, 'the emptied family is unregistered');
    assert.equal(await evicted(registry), 2);
    assert.equal((await dropped())['max_series'], 2);
    assert.equal(metrics.size, 3);
  });

  test('evicting the last series of the family the new series joins keeps the family; label values are freed', async () => {
    const { registry, clock, metrics, samples, dropped } = setup({ maxSeries: 1, maxLabelValuesPerMetric: 1, seriesTtlSeconds: 600, seriesMinIdleSeconds: 0 });
    metrics.observe([point('load', 1, { tags: { host: 'x' } })]);
    metrics.observe([point('load', 2, { tags: { host: 'y' } })]);
    // host=x still holds the only label value when y arrives: refused for the label cap, nothing evicted.
    assert.equal((await dropped())['max_label_values'], 1);
    assert.equal(await evicted(registry), 0);
    clock.advance(1);
    metrics.observe([point('other', 3)]);
    assert.deepEqual(await samples(), ['vigil_app_other 3']);
    clock.advance(1);
    metrics.observe([point('other', 4, { tags: { k: 'v' } })]);
    assert.deepEqual(await samples(), ['vigil_app_other{k="v"} 4']);
    clock.advance(1);
    metrics.observe([point('load', 5, { tags: { host: 'y' } })]);
    assert.deepEqual(await samples(), ['vigil_app_load{host="y"} 5']);
    assert.equal(await evicted(registry), 3);
    assert.equal(metrics.size, 1);
  });

  test('the minimum idle time defaults to 60 s, or to the TTL when that is shorter', async () => {
    const { registry, clock, metrics } = setup({ maxSeries: 1, seriesTtlSeconds: 600 });
    metrics.observe([point('a', 1)]);
    clock.advance(59_999);
    metrics.observe([point('b', 1)]);
    assert.equal(await evicted(registry), 0);
    clock.advance(60_000);
    metrics.observe([point('c', 1)]);
    assert.equal(await evicted(registry), 1);
    const short = setup({ maxSeries: 1, seriesTtlSeconds: 20 });
    short.metrics.observe([point('a', 1)]);
    short.clock.advance(20_000);
    short.metrics.observe([point('b', 1)]);
    assert.equal(await evicted(short.registry), 1);
    assert.deepEqual(await short.samples(), ['vigil_app_b 1']);
  });
});
