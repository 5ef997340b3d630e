import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import { client as datadogClient, v1, v2 } from '@datadog/datadog-api-client';
import StatsD from 'hot-shots';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';
import type { IngestKind } from '../../src/ingest-log/ingest-log.items.js';

const INGEST_KEY = 'dd-ingest-key-0123456789';
const METRICS_KEY = 'dd-metrics-key-0123456789';

/** The official API client's configuration, pointed at Vigil. */
function apiConfiguration(url: string, apiKey: string) {
  const configuration = datadogClient.createConfiguration({ authMethods: { apiKeyAuth: apiKey }, enableRetry: false });
  configuration.setServerVariables({});
  (configuration as unknown as { baseServer: unknown }).baseServer = new datadogClient.BaseServerConfiguration(url, {});
  return configuration;
}

function sendUdp(port: number, text: string): Promise<void> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => socket.send(text, port, '127.0.0.1', (error) => {
    socket.close();
    if (error) reject(error);
    else resolve();
  }));
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`Datadog intake on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    let listener: { port: number | null; drain(): Promise<void> };
    const stored = async (kind: IngestKind) =>
      (await storedEntries(vigil.app.get<Db>(DATABASE), [kind])).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
    /**
     * Commits what the listener holds until `kind` has `count` items, or until `done` holds for
     * what is stored (datagrams arrive asynchronously; counts and gauges are aggregated, so the
     * number of items depends on how the flush intervals fell).
     */
    const settleUdp = async (kind: IngestKind, count: number | ((items: Array<Record<string, unknown>>) => boolean)) => {
      for (let attempt = 0; attempt < 100; attempt++) {
        await listener.drain();
        const items = await stored(kind);
        if (typeof count === 'number' ? items.length >= count : count(items)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const sumOf = (items: Array<Record<string, unknown>>, name: string, tags?: Record<string, string>) =>
      items.filter((item) => item['name'] === name && (tags === undefined || JSON.stringify(item['tags']) === JSON.stringify(tags))).reduce((sum, item) => sum + Number(item['value']), 0);

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_METRICS_KEY: METRICS_KEY, VIGIL_DOGSTATSD_PORT: '0', VIGIL_DOGSTATSD_HOST: '127.0.0.1' });
      const { DogStatsdListener } = await import('../../src/intakes/datadog/dogstatsd.listener.js');
      listener = vigil.app.get(DogStatsdListener);
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('hot-shots, unchanged: counts, gauges, histograms, distributions, timings, sets, events and service checks', async () => {
      const metricsBefore = (await stored('metric')).length;
      const eventsBefore = (await stored('event')).length;
      const statsd = new StatsD({ host: '127.0.0.1', port: listener.port!, globalTags: { env: 'test', service: 'checkout' }, maxBufferSize: 1000, bufferFlushInterval: 10 });
      for (let index = 0; index < 5; index++) statsd.increment('checkout.requests', 1, { route: '/users' });
      statsd.gauge('checkout.queue.depth', 7);
      statsd.histogram('checkout.latency', 12.5);
      for (const value of [1.5, 2.5, 10]) statsd.distribution('checkout.latency.dist', value);
      statsd.timing('checkout.db.query', 42);
      for (const user of ['u1', 'u2', 'u1']) statsd.set('checkout.users.unique', user);
      statsd.event('Deploy finished', 'v2.3.1\nall green', { alert_type: 'success', hostname: 'host-1' });
      statsd.check('checkout.app.ok', statsd.CHECKS.WARNING, { hostname: 'host-1', message: 'slow' });
      await new Promise<void>((resolve) => statsd.close(() => resolve()));

      // 5 counts (summed into one item per flush interval) + 1 gauge + 1 histogram + 3 distribution + 1 timing + 1 set gauge.
      await settleUdp('metric', (items) => sumOf(items.slice(metricsBefore), 'checkout.requests') === 5 && items.slice(metricsBefore).some((item) => item['name'] === 'checkout.users.unique'));
      const metrics = (await stored('metric')).slice(metricsBefore);
      const byName = (metric: string) => metrics.filter((item) => item['name'] === metric);
      assert.equal(metrics.length - byName('checkout.requests').length, 7);
      assert.ok(byName('checkout.requests').length >= 1 && byName('checkout.requests').length <= 5);
      assert.equal(sumOf(metrics, 'checkout.requests'), 5);
      assert.deepEqual(byName('checkout.requests')[0]!['tags'], { env: 'test', service: 'checkout', route: '/users' });
      assert.deepEqual(byName('checkout.queue.depth').map((item) => [item['type'], item['value']]), [['gauge', 7]]);
      assert.deepEqual(byName('checkout.latency').map((item) => [item['type'], item['value']]), [['distribution', 12.5]]);
      assert.deepEqual(byName('checkout.latency.dist').map((item) => item['value']), [1.5, 2.5, 10]);
      assert.deepEqual(byName('checkout.db.query').map((item) => [item['type'], item['value'], item['unit']]), [['distribution', 42, 'ms']]);
      assert.deepEqual(byName('checkout.users.unique').map((item) => [item['type'], item['value']]), [['gauge', 2]]);

      await settleUdp('event', eventsBefore + 2);
      const events = (await stored('event')).slice(eventsBefore);
      assert.deepEqual(events.map((event) => [event['title'], event['text'], event['alertType']]), [
        ['Deploy finished', 'v2.3.1\nall green', 'success'],
        ['checkout.app.ok', 'slow', 'warning'],
      ]);
      assert.equal((events[1]!['tags'] as Record<string, string>)['check_status'], 'warning');

      const exposition = await fetch(`${vigil.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } }).then((response) => response.text());
      assert.match(exposition, /vigil_app_checkout_requests_total\{[^}]*route="\/users"[^}]*\} 5\n/);
      assert.match(exposition, /vigil_app_checkout_latency_dist_count\{[^}]*\} 3\n/);
      assert.match(exposition, /vigil_app_checkout_db_query_seconds_sum\{[^}]*\} 0\.042\n/);
    });

    test('hot-shots, 10,000 increments on 4 series and 400 gauges: every increment counted exactly once, the last gauge kept, in a few items', async () => {
      const metricsBefore = (await stored('metric')).length;
      const statsd = new StatsD({ host: '127.0.0.1', port: listener.port!, globalTags: { env: 'exact' }, maxBufferSize: 1400, bufferFlushInterval: 5 });
      const routes = ['/a', '/b', '/c', '/d'];
      for (let index = 0; index < 10_000; index++) {
        statsd.increment('exact.requests', 1, { route: routes[index % 4]! });
        if (index % 25 === 0) statsd.gauge('exact.depth', index);
        // Let the socket drain now and then: loopback drops only what overflows the receive buffer.
        if (index % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
      }
      await new Promise<void>((resolve) => statsd.close(() => resolve()));
      await settleUdp('metric', (items) => sumOf(items.slice(metricsBefore), 'exact.requests') >= 10_000);
      await listener.drain();
      const metrics = (await stored('metric')).slice(metricsBefore);
      for (const route of routes) assert.equal(sumOf(metrics, 'exact.requests', { env: 'exact', route }), 2500, route);
      const counts = metrics.filter((item) => item['name'] === 'exact.requests');
      assert.ok(counts.length < 100, `${counts.length} count items for 10,000 increments`);
      const gauges = metrics.filter((item) => item['name'] === 'exact.depth');
      assert.equal(gauges.at(-1)!['value'], 9975);
      assert.ok(gauges.length < 50, `${gauges.length} gauge items for 400 gauges`);
      const exposition = await fetch(`${vigil.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } }).then((response) => response.text());
      assert.match(exposition, /vigil_app_exact_requests_total\{[^}]*route="\/c"[^}]*\} 2500\n/);
      assert.match(exposition, /vigil_dogstatsd_receive_buffer_bytes \d+/);
    });

    test('sample rates scale counts; malformed lines are counted and never stored', async () => {
      const metricsBefore = (await stored('metric')).length;
      await sendUdp(listener.port!, 'sampled.hits:1|c|@0.25|#team:web\nnot statsd at all\nsampled.hist:3|h|@0.5\nbad.value:abc|g');
      await settleUdp('metric', metricsBefore + 3);
      const metrics = (await stored('metric')).slice(metricsBefore);
      // Samples are queued as they arrive; the aggregated count joins them when its interval closes.
      assert.deepEqual(metrics.map((item) => [item['name'], item['value']]), [['sampled.hist', 3], ['sampled.hist', 3], ['sampled.hits', 4]]);
      const exposition = await fetch(`${vigil.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } }).then((response) => response.text());
      assert.match(exposition, /vigil_dogstatsd_dropped_total\{reason="malformed"\} 2\n/);
    });

    test('the official API client: series v1 and v2, distribution points, service checks, events and logs; a wrong key gets 403', async () => {
      const configuration = apiConfiguration(vigil.url, INGEST_KEY);
      const now = Math.floor(Date.now() / 1000);
      const metricsBefore = (await stored('metric')).length;
      const eventsBefore = (await stored('event')).length;
      const logsBefore = (await stored('log')).length;

      const v2Answer = await new v2.MetricsApi(configuration).submitMetrics({
        body: {
          series: [
            { metric: 'api.latency', type: 3, points: [{ timestamp: now - 20, value: 120 }, { timestamp: now - 10, value: 130 }], tags: ['env:test', 'canary'], resources: [{ name: 'host-1', type: 'host' }] },
            { metric: 'api.hits', type: 1, points: [{ timestamp: now - 10, value: 4 }] },
          ],
        },
      });
      assert.deepEqual(v2Answer.errors ?? [], []);
      await new v1.MetricsApi(configuration).submitMetrics({ body: { series: [{ metric: 'api.v1', points: [[now - 5, 9]], type: 'count', host: 'host-2', tags: ['team:web'] }] } });
      await new v1.MetricsApi(configuration).submitDistributionPoints({ body: { series: [{ metric: 'api.dist', points: [[now - 5, [1.5, 2.5, 10]]], tags: ['env:test'] }] } });
      const metrics = (await stored('metric')).slice(metricsBefore);
      assert.deepEqual(metrics.map((item) => [item['name'], item['type'], item['value'], item['timestamp']]), [
        ['api.latency', 'gauge', 120, (now - 20) * 1000],
        ['api.latency', 'gauge', 130, (now - 10) * 1000],
        ['api.hits', 'count', 4, (now - 10) * 1000],
        ['api.v1', 'count', 9, (now - 5) * 1000],
        ['api.dist', 'distribution', 1.5, (now - 5) * 1000],
        ['api.dist', 'distribution', 2.5, (now - 5) * 1000],
        ['api.dist', 'distribution', 10, (now - 5) * 1000],
      ]);
      assert.deepEqual(metrics[0]!['tags'], { env: 'test', canary: 'true', host: 'host-1' });
      assert.deepEqual(metrics[3]!['tags'], { team: 'web', host: 'host-2' });

      await new v1.ServiceChecksApi(configuration).submitServiceCheck({ body: [{ check: 'db.up', hostName: 'db-1', status: 2, tags: ['env:test'], message: 'down' }] });
      await new v1.EventsApi(configuration).createEvent({ body: { title: 'Deploy', text: 'v2', alertType: 'info', tags: ['env:test'] } });
      const events = (await stored('event')).slice(eventsBefore);
      assert.deepEqual(events.map((event) => [event['title'], event['text'], event['alertType']]), [['db.up', 'down', 'error'], ['Deploy', 'v2', 'info']]);

      await new v2.LogsApi(configuration).submitLog({ ddtags: 'env:test', body: [{ ddsource: 'nodejs', hostname: 'host-1', message: 'payment failed', service: 'billing', additionalProperties: { status: 'error' } }] });
      const logs = (await stored('log')).slice(logsBefore);
      assert.deepEqual(logs.map((log) => [log['message'], log['service'], log['level']]), [['payment failed', 'billing', 'error']]);

      const wrong = apiConfiguration(vigil.url, 'not-a-key');
      await assert.rejects(() => new v1.EventsApi(wrong).createEvent({ body: { title: 'never', text: 'x' } }), (error: unknown) => (error as { code?: number }).code === 403);
      assert.equal((await stored('event')).length, eventsBefore + 2);

      const notJson = await fetch(`${vigil.url}/api/v1/series`, { method: 'POST', headers: { 'dd-api-key': INGEST_KEY, 'content-type': 'text/json' }, body: '{"series": [' });
      assert.equal(notJson.status, 400);
      assert.equal(((await notJson.json()) as { errors: string[] }).errors.length, 1);
      const status = await getJson(`${vigil.url}/api/v2/series`, {});
      assert.equal(status.status, 404);
    });
  });
}
