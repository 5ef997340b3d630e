/**
 * Anomaly detection through the real app on both stores: synthetic series with injected changes
 * POSTed to /ingest/metrics and /ingest/requests with their own timestamps, read back from
 * /anomalies and /anomalies/report; the event, log line and Prometheus counter of each anomaly;
 * query validation; stationary noise.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TUNING } from '../../src/anomalies/detection/series-detector.js';
import { SeededRandom } from '../../src/anomalies/detection/rng.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, anomalies, getWithReadKey, ingestMetrics, ingestRequests, report } from './anomalies-http.js';
import { CHANGE, SEASONAL_BREAK, pointsOf, syntheticSeries } from './anomalies-series.js';
import { STEP_MS, T0 } from './synthetic.js';
import { storedItems } from '../support/stored-entries.js';

const at = (index: number) => new Date(T0 + index * STEP_MS).toISOString();
const indexOf = (timestamp: string) => (Date.parse(timestamp) - T0) / STEP_MS;

function expectedCounters(values: number[]) {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const std = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length);
  return { mean, std, min: Math.min(...values), max: Math.max(...values) };
}

function near(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`anomalies on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const series = syntheticSeries();
    const serviceRng = new SeededRandom(99);
    const requests = Array.from({ length: 1000 }, (_unused, index) => ({
      service: 'checkout',
      durationMs: index === 800 ? 400 : 100 + 5 * serviceRng.nextGaussian(),
      timestamp: T0 + index * 60_000,
    }));
    const noiseRng = new SeededRandom(20240601);
    const noise = Array.from({ length: 20_000 }, (_unused, index) => ({ name: 'test.noise', value: 50 + 3 * noiseRng.nextGaussian(), timestamp: T0 + index * STEP_MS }));

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, ...KEYS });
      await ingestMetrics(vigil, pointsOf(series));
      // A late point (older than the series' last one): counted, not modelled, never anomalous.
      await ingestMetrics(vigil, [{ name: 'test.spike', tags: { host: 'a' }, value: 1e6, timestamp: T0 }]);
      await ingestRequests(vigil, requests);
      await ingestMetrics(vigil, noise);
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('a spike, a level shift, a variance change and a seasonal break: exactly one anomaly each, where injected', async () => {
      const spike = await anomalies(vigil, { metric: 'test.spike' });
      assert.deepEqual(spike.map((row) => row.timestamp), [at(CHANGE)]);
      assert.deepEqual(spike[0]!.tags, { host: 'a' });
      assert.equal(spike[0]!.value, series[0]!.data.values[CHANGE]);
      assert.ok(Math.abs(spike[0]!.expected - 100) < 1, `expected ${spike[0]!.expected}`);
      assert.ok(spike[0]!.methods.includes('robust_zscore'), spike[0]!.methods.join());
      assert.ok(spike[0]!.score > 0 && spike[0]!.score <= 1);
      assert.ok(['low', 'medium', 'high', 'critical'].includes(spike[0]!.severity));

      const shift = (await anomalies(vigil, { metric: 'test.shift' })).map((row) => indexOf(row.timestamp));
      assert.equal(shift.length, 1, `shift anomalies at ${shift}`);
      assert.ok(shift[0]! >= CHANGE && shift[0]! < CHANGE + 16, `shift anomaly at ${shift[0]}`);
      const variance = (await anomalies(vigil, { metric: 'test.variance' })).map((row) => indexOf(row.timestamp));
      assert.equal(variance.length, 1, `variance anomalies at ${variance}`);
      assert.ok(variance[0]! >= CHANGE && variance[0]! < CHANGE + 32, `variance anomaly at ${variance[0]}`);
      const seasonal = (await anomalies(vigil, { metric: 'test.seasonal' })).map((row) => indexOf(row.timestamp)).reverse();
      assert.equal(seasonal.filter((index) => index < SEASONAL_BREAK).length, 0, `seasonal anomalies at ${seasonal}`);
      const during = seasonal.filter((index) => index >= SEASONAL_BREAK && index < SEASONAL_BREAK + 288);
      assert.equal(during.length, 1, `seasonal anomalies at ${seasonal}`);
      assert.ok(during[0]! < SEASONAL_BREAK + 48, `seasonal anomaly at ${during[0]}`);
      assert.ok(seasonal.filter((index) => index >= SEASONAL_BREAK + 288).length <= 1, `seasonal anomalies at ${seasonal}`);
    });

    test("a service's request latency is its own series, reported as request.duration_ms{service}", async () => {
      const rows = await anomalies(vigil, { metric: 'request.duration_ms' });
      assert.deepEqual(
        rows.map((row) => [row.timestamp, row.value, row.tags]),
        [[new Date(T0 + 800 * 60_000).toISOString(), 400, { service: 'checkout' }]],
      );
    });

    test('stationary Gaussian noise: at most 1 anomaly per 10,000 points (20,000 points)', async () => {
      const rows = await anomalies(vigil, { metric: 'test.noise' });
      assert.ok(rows.length <= 2, `${rows.length} anomalies in 20,000 noise points`);
    });

    test('the report counts every point exactly, by metric name', async () => {
      const body = await report(vigil);
      const all = await anomalies(vigil);
      const expectedMetrics: Record<string, number[]> = { 'request.duration_ms': requests.map((request) => request.durationMs), 'test.noise': noise.map((point) => point.value) };
      for (const spec of series) expectedMetrics[spec.name] = [...spec.data.values];
      expectedMetrics['test.spike']!.push(1e6);
      assert.deepEqual(Object.keys(body.metrics).sort(), Object.keys(expectedMetrics).sort());
      for (const [metric, values] of Object.entries(expectedMetrics)) {
        const reported = body.metrics[metric]!;
        const expected = expectedCounters(values);
        assert.equal(reported.points_processed, values.length, metric);
        assert.equal(reported.data_points, metric === 'test.spike' ? values.length - 1 : values.length, metric);
        assert.equal(reported.min, expected.min, metric);
        assert.equal(reported.max, expected.max, metric);
        near(reported.mean, expected.mean, `${metric} mean`);
        near(reported.std, expected.std, `${metric} std`);
        assert.equal(reported.anomalies, all.filter((row) => row.metric === metric).length, metric);
      }
      const total = Object.values(expectedMetrics).reduce((sum, values) => sum + values.length, 0);
      assert.equal(body.total_points_processed, total);
      assert.equal(body.total_data_points, total - 1);
      assert.equal(body.metrics_monitored, 6);
      assert.equal(body.series_monitored, 6);
      assert.equal(body.anomalies_detected, all.length);
      assert.equal(body.points_over_cap, 0);
      // Past the warm-up: every series with at least TUNING.warmupPoints modelled points.
      const ready = Object.entries(expectedMetrics).filter(([metric, values]) => (metric === 'test.spike' ? values.length - 1 : values.length) >= TUNING.warmupPoints);
      assert.equal(body.models_trained, ready.length);
    });

    test('each anomaly is one event in the ingest log, one warn log line and one count on /metrics', async () => {
      const all = await anomalies(vigil);
      const db = vigil.app.get<Db>(DATABASE);
      const payloads = await storedItems<{ title: string; alertType: string; tags: Record<string, string>; source: string }>(db, ['event']);
      assert.equal(payloads.length, all.length);
      assert.deepEqual(payloads.map((payload) => payload.tags['metric']).sort(), all.map((row) => row.metric).sort());
      for (const payload of payloads) {
        assert.ok(['warning', 'error'].includes(payload.alertType));
        assert.equal(payload.source, 'vigil');
      }
      const spikeEvent = payloads.find((payload) => payload.tags['metric'] === 'test.spike')!;
      assert.equal(spikeEvent.tags['host'], 'a');

      const lines = vigil.logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['event_type'] === 'anomaly_detected');
      assert.equal(lines.length, all.length);
      const spikeLine = lines.find((line) => line['metric'] === 'test.spike')!;
      assert.equal(spikeLine['level'], 40);
      assert.deepEqual(spikeLine['tags'], { host: 'a' });
      for (const field of ['value', 'expected', 'score', 'severity']) assert.ok(field in spikeLine, field);

      const exposition = await (await fetch(`${vigil.url}/metrics`)).text();
      assert.match(exposition, /vigil_anomalies_detected_total\{metric="test\.spike"\} 1\n/);
      assert.match(exposition, /vigil_anomaly_series 6\n/);
      assert.match(exposition, /vigil_anomaly_series_over_cap 0\n/);
      for (const consumer of ['anomalies', 'sla', 'analytics']) assert.match(exposition, new RegExp(`vigil_consumer_lag_seconds\\{consumer="${consumer}"\\} 0\n`));
    });

    test('/anomalies filters by metric and inclusive time range, newest first, and validates its parameters', async () => {
      const all = await anomalies(vigil);
      assert.ok(all.length >= 5);
      const times = all.map((row) => Date.parse(row.timestamp));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
      const spikeTime = T0 + CHANGE * STEP_MS;
      assert.deepEqual((await anomalies(vigil, { from: String(spikeTime), to: new Date(spikeTime).toISOString(), metric: 'test.spike' })).length, 1);
      assert.deepEqual((await anomalies(vigil, { from: String(spikeTime + 1), metric: 'test.spike' })).length, 0);
      assert.deepEqual((await anomalies(vigil, { to: String(spikeTime - 1), metric: 'test.spike' })).length, 0);
      assert.equal((await anomalies(vigil, { limit: '2' })).length, 2);
      assert.deepEqual(await anomalies(vigil, { metric: '', from: '', to: '', limit: '' }), all, 'empty parameters are absent ones');
      assert.deepEqual((await anomalies(vigil, { limit: '2' })).map((row) => row.id), all.slice(0, 2).map((row) => row.id));
      const defaultLimit = await getWithReadKey(`${vigil.url}/anomalies`);
      assert.equal(defaultLimit.status, 200);
      for (const [query, parameter] of [['limit=0', 'limit'], ['limit=10001', 'limit'], ['limit=abc', 'limit'], ['from=yesterday', 'from'], ['to=2024-13-45T00:00:00Z', 'to'], ['from=2&to=1', 'from'], [`metric=${'m'.repeat(201)}`, 'metric']]) {
        const response = await getWithReadKey(`${vigil.url}/anomalies?${query}`);
        assert.equal(response.status, 400, query);
        assert.match(String(response.body['message']), new RegExp(parameter), query);
      }
      assert.equal((await fetch(`${vigil.url}/anomalies`)).status, 401);
    });
  });
}
