/**
 * A batch that needs several vendor calls (metrics, then events) and meets a 413 on the first:
 * the core will split the whole batch and send both halves again, so the events must not have
 * been posted already (neither vendor deduplicates events). Destinations against fake intakes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DatadogDestination } from '../../src/apm/datadog/datadog.destination.js';
import { NewRelicDestination } from '../../src/apm/newrelic/newrelic.destination.js';
import { Clock } from '../../src/common/clock.js';
import type { Destination } from '../../src/delivery/destination.js';
import type { LogEntry } from '../../src/ingest-log/log-entry.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';

const now = Date.now();
const batch: LogEntry[] = [
  { id: 1, kind: 'metric', receivedAt: now, eventTime: now, bytes: 80, payload: { name: 'checkout.latency', value: 12, type: 'distribution', timestamp: now, tags: {} } },
  { id: 2, kind: 'event', receivedAt: now, eventTime: now, bytes: 80, payload: { title: 'Deploy finished', text: 'v2', alertType: 'info', tags: {}, timestamp: now } },
];

async function sendWith413(destination: Destination, inject: () => void): Promise<string> {
  inject();
  const result = await destination.send(batch, new AbortController().signal);
  return result.outcome;
}

describe('a 413 on the metrics call holds back the events of the batch', () => {
  const datadog = new FakeDatadog('dd-key-0123456789');
  const newRelic = new FakeNewRelic('nr-license-0123456789');
  before(async () => {
    await datadog.start();
    await newRelic.start();
  });
  after(async () => {
    await datadog.close();
    await newRelic.close();
  });

  test('Datadog', async () => {
    const destination = new DatadogDestination({ apiKey: datadog.apiKey, site: 'datadoghq.com', apiUrl: datadog.url }, 'test', new Clock());
    const outcome = await sendWith413(destination, () => datadog.inject(1, { status: 413, body: { errors: ['Payload too large'] } }, /^\/api\/v1\/distribution_points$/));
    assert.equal(outcome, 'too_large');
    assert.equal(datadog.requests.filter((request) => request.path === '/api/v1/events').length, 0);
    // The split halves then go through, each once.
    assert.equal((await destination.send(batch.slice(0, 1), new AbortController().signal)).outcome, 'delivered');
    assert.equal((await destination.send(batch.slice(1), new AbortController().signal)).outcome, 'delivered');
    assert.equal(datadog.events.length, 1);
  });

  test('New Relic', async () => {
    const destination = new NewRelicDestination(
      { licenseKey: newRelic.licenseKey, region: 'us', metricApiUrl: newRelic.metricApiUrl, eventApiUrl: newRelic.eventApiUrl },
      'test',
      new Clock(),
    );
    const outcome = await sendWith413(destination, () => newRelic.inject(1, { status: 413, body: { error: 'payload too large' } }, /^\/metric\/v1$/));
    assert.equal(outcome, 'too_large');
    assert.equal(newRelic.requests.filter((request) => request.path.endsWith('/events')).length, 0);
  });
});
