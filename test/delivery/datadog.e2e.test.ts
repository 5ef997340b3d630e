import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { driveClock, metricsText, sample, waitFor } from './delivery-support.js';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);

for (const { name, make } of BOTH_DATABASES) {
  describe(`Datadog forwarding on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    let fake: FakeDatadog;
    const clock = new ManualClock(START);
    let stopClock: () => void = () => undefined;

    before(async () => {
      database = await make();
      fake = new FakeDatadog('dd-api-key-0123456789', () => clock.now());
      await fake.start();
      vigil = await startApp(
        { DATABASE_URL: database.url, DATADOG_API_KEY: fake.apiKey, DATADOG_API_URL: fake.url, ENVIRONMENT: 'staging', VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '1000' },
        { clock },
      );
      stopClock = driveClock(clock, 100);
    });
    after(async () => {
      stopClock();
      await vigil.close();
      await fake.close();
      await database.drop();
    });

    test('metrics, events and request timings arrive mapped, tagged with env, nothing stale', async () => {
      const now = clock.now();
      assert.equal(
        (
          await postJson(`${vigil.url}/ingest/metrics`, {
            metrics: [
              { name: 'api.response_time', value: 12.5, type: 'gauge', tags: { endpoint: '/users' }, unit: 'millisecond', timestamp: now },
              { name: 'jobs.done', value: 3, type: 'count', timestamp: now },
              { name: 'payload.size', value: 700, type: 'distribution', timestamp: now },
            ],
          })
        ).status,
        202,
      );
      assert.equal((await postJson(`${vigil.url}/ingest/events`, { events: [{ title: 'Deploy', text: 'v2 is out', alertType: 'success', tags: { team: 'core' }, source: 'ci' }] })).status, 202);
      assert.equal(
        (
          await postJson(`${vigil.url}/ingest/requests`, {
            requests: [
              { service: 'api', durationMs: 10, statusCode: 200, timestamp: now },
              { service: 'api', durationMs: 30, statusCode: 503, timestamp: now },
              { service: 'db', durationMs: 2, timestamp: now },
            ],
          })
        ).status,
        202,
      );
      await waitFor('everything at the fake Datadog', () => fake.events.length === 1 && fake.points.length === 2 + 4 && fake.distributions.length === 3);

      const gauge = fake.points.find((point) => point.metric === 'api.response_time')!;
      assert.deepEqual(gauge, { metric: 'api.response_time', type: 3, timestamp: Math.floor(now / 1000), value: 12.5, tags: ['endpoint:/users', 'env:staging'], interval: undefined, unit: 'millisecond' });
      const count = fake.points.find((point) => point.metric === 'jobs.done')!;
      assert.equal(count.type, 1);
      assert.equal(count.interval, 10);
      assert.deepEqual(fake.distributions.find((point) => point.metric === 'payload.size'), { metric: 'payload.size', timestamp: Math.floor(now / 1000), values: [700], tags: ['env:staging'] });
      const apiCount = fake.points.find((point) => point.metric === 'vigil.requests.count' && point.tags.includes('service:api'))!;
      assert.equal(apiCount.value, 2);
      assert.equal(fake.points.find((point) => point.metric === 'vigil.requests.errors' && point.tags.includes('service:api'))!.value, 1);
      assert.deepEqual(fake.distributions.find((point) => point.metric === 'vigil.requests.duration' && point.tags.includes('service:api'))!.values, [10, 30]);
      assert.deepEqual(fake.events[0], {
        title: 'Deploy',
        text: 'v2 is out',
        alert_type: 'success',
        date_happened: Math.floor(fake.events[0]!.date_happened!),
        tags: ['team:core', 'env:staging', 'source:ci'],
      });
      assert.equal(fake.stale, 0);
      for (const request of fake.accepted.filter((request) => request.path === '/api/v2/series')) {
        assert.equal(request.headers['content-encoding'], 'gzip');
      }

      const text = await metricsText(vigil.url);
      // 3 metrics + 1 event + 3 requests were accepted for Datadog, and all delivered.
      assert.equal(sample(text, 'vigil_delivery_items_total', { destination: 'datadog', outcome: 'accepted' }), 7);
      await waitFor('delivered counter', async () => sample(await metricsText(vigil.url), 'vigil_delivery_items_total', { destination: 'datadog', outcome: 'delivered' }) === 7);
      assert.equal(sample(await metricsText(vigil.url), 'vigil_delivery_queue_depth_items', { destination: 'datadog' }), 0);
    });
  });
}
