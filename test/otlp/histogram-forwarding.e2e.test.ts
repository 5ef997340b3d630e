import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../delivery/delivery-support.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';

const DATADOG_KEY = 'dd-api-key-0123456789';
const NEW_RELIC_KEY = 'nr-license-0123456789';

/** A histogram item forwarded: a Datadog distribution of its buckets, a New Relic summary. */
describe('histogram forwarding', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  const datadog = new FakeDatadog(DATADOG_KEY);
  const newRelic = new FakeNewRelic(NEW_RELIC_KEY);

  before(async () => {
    database = sqliteDatabase();
    await Promise.all([datadog.start(), newRelic.start()]);
    vigil = await startApp({
      DATABASE_URL: database.url,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
      ENVIRONMENT: 'test',
      DATADOG_API_KEY: DATADOG_KEY,
      DATADOG_API_URL: datadog.url,
      NEW_RELIC_LICENSE_KEY: NEW_RELIC_KEY,
      NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl,
    });
  });
  after(async () => {
    await vigil.close();
    await Promise.all([datadog.close(), newRelic.close()]);
    await database.drop();
  });

  test('Datadog gets each bucket count as values at the middle of its edges; New Relic a summary with the min and max sent, or the bucket edges', async () => {
    const now = Date.now();
    const response = await postJson(`${vigil.url}/ingest/metrics`, {
      metrics: [
        { name: 'queue.wait', type: 'histogram', value: 61, timestamp: now, tags: { queue: 'a' }, histogram: { count: 6, sum: 61, bounds: [10, 20], counts: [1, 3, 2], min: 2, max: 25 } },
        { name: 'queue.size', type: 'histogram', value: 30, timestamp: now, histogram: { count: 2, sum: 30, bounds: [10, 20, 40], counts: [0, 1, 1, 0] } },
      ],
    });
    assert.equal(response.status, 202);
    await waitFor('both histograms at both fakes', () => datadog.distributions.length === 2 && newRelic.metrics.length === 2);

    const wait = datadog.distributions.find((point) => point.metric === 'queue.wait')!;
    // Buckets (−∞, 10], (10, 20], (20, +∞): the open ones at their one bound.
    assert.deepEqual(wait.values, [10, 15, 15, 15, 20, 20]);
    assert.deepEqual(wait.tags, ['queue:a', 'env:test']);
    assert.deepEqual(datadog.distributions.find((point) => point.metric === 'queue.size')!.values, [15, 30]);

    const summary = (name: string) => newRelic.metrics.find((metric) => metric.name === name)!;
    assert.equal(summary('queue.wait').type, 'summary');
    assert.deepEqual(summary('queue.wait').value, { count: 6, sum: 61, min: 2, max: 25 });
    assert.deepEqual(summary('queue.size').value, { count: 2, sum: 30, min: 10, max: 40 });
  });
});
