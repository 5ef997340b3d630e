import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { sqliteDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';
import type { FakeIntake, InjectedAnswer } from '../fakes/fake-intake.js';
import { driveClock, metricsText, sample, waitFor } from './delivery-support.js';

type Expectation = { delivered: true; minPauseMs?: number; retryReason: string } | { delivered: false; status: number };

const RETRY_AFTER_S = 120;
/** Every answer class the delivery core distinguishes, as HTTP answers. */
function cases(clock: ManualClock): Array<{ name: string; answer: () => InjectedAnswer; expect: Expectation }> {
  return [
    { name: '500 is retried', answer: () => ({ status: 500 }), expect: { delivered: true, retryReason: 'server_error' } },
    { name: '502 is retried', answer: () => ({ status: 502 }), expect: { delivered: true, retryReason: 'server_error' } },
    { name: '503 is retried', answer: () => ({ status: 503 }), expect: { delivered: true, retryReason: 'server_error' } },
    { name: '408 is retried', answer: () => ({ status: 408 }), expect: { delivered: true, retryReason: 'timeout' } },
    { name: '429 without Retry-After backs off', answer: () => ({ status: 429 }), expect: { delivered: true, retryReason: 'throttled' } },
    {
      name: '429 with Retry-After seconds pauses that long',
      answer: () => ({ status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) } }),
      expect: { delivered: true, minPauseMs: RETRY_AFTER_S * 1000, retryReason: 'throttled' },
    },
    {
      name: '429 with Retry-After HTTP date pauses until then',
      // The retry comes no earlier than the date itself (checked below against the header).
      answer: () => ({ status: 429, headers: { 'retry-after': new Date(clock.now() + RETRY_AFTER_S * 1000).toUTCString() } }),
      expect: { delivered: true, retryReason: 'throttled' },
    },
    {
      name: '503 with Retry-After pauses that long',
      answer: () => ({ status: 503, headers: { 'retry-after': String(RETRY_AFTER_S) } }),
      expect: { delivered: true, minPauseMs: RETRY_AFTER_S * 1000, retryReason: 'throttled' },
    },
    { name: '400 is dead-lettered', answer: () => ({ status: 400 }), expect: { delivered: false, status: 400 } },
    // Refusals of the key or URL, not of the item: retried until fixed, never dead-lettered.
    { name: '401 is retried (credentials)', answer: () => ({ status: 401 }), expect: { delivered: true, retryReason: 'configuration' } },
    { name: '403 is retried (credentials)', answer: () => ({ status: 403 }), expect: { delivered: true, retryReason: 'configuration' } },
    { name: '404 is retried (wrong URL)', answer: () => ({ status: 404 }), expect: { delivered: true, retryReason: 'configuration' } },
    { name: '422 is dead-lettered', answer: () => ({ status: 422 }), expect: { delivered: false, status: 422 } },
    { name: '501 is dead-lettered', answer: () => ({ status: 501 }), expect: { delivered: false, status: 501 } },
  ];
}

interface Subject {
  destination: 'datadog' | 'newrelic';
  metricPath: RegExp;
  fake: FakeIntake;
  env: () => Record<string, string>;
  delivered: (name: string) => number;
}

const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
const datadog = new FakeDatadog('dd-key-0123456789', () => clock.now());
const newRelic = new FakeNewRelic('nr-license-0123456789', '42', () => clock.now());
const subjects: Subject[] = [
  {
    destination: 'datadog',
    metricPath: /\/api\/v2\/series/,
    fake: datadog,
    env: () => ({ DATADOG_API_KEY: datadog.apiKey, DATADOG_API_URL: datadog.url }),
    delivered: (name) => datadog.points.filter((point) => point.metric === name).length,
  },
  {
    destination: 'newrelic',
    metricPath: /\/metric\/v1/,
    fake: newRelic,
    env: () => ({ NEW_RELIC_LICENSE_KEY: newRelic.licenseKey, NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl, NEW_RELIC_EVENT_API_URL: newRelic.eventApiUrl }),
    delivered: (name) => newRelic.metrics.filter((metric) => metric.name === name).length,
  },
];

for (const subject of subjects) {
  describe(`${subject.destination}: every answer class`, () => {
    let vigil: RunningApp;
    let stopClock: () => void = () => undefined;
    const admin = { authorization: 'Bearer admin-key-0123456789' };

    before(async () => {
      await subject.fake.start();
      vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_ADMIN_KEYS: 'admin-key-0123456789', ...subject.env() }, { clock });
      stopClock = driveClock(clock, 1000);
    });
    after(async () => {
      stopClock();
      await vigil.close();
      await subject.fake.close();
    });

    cases(clock).forEach((testCase, index) => {
      test(testCase.name, async () => {
        const metric = `table.${subject.destination}.case${index}`;
        const before = subject.fake.requests.length;
        const retriesBefore = sample(await metricsText(vigil.url), 'vigil_delivery_retries_total', {
          destination: subject.destination,
          reason: testCase.expect.delivered ? testCase.expect.retryReason : 'none',
        });
        const answer = testCase.answer();
        subject.fake.inject(1, answer, subject.metricPath);
        const ingest = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: metric, value: index, timestamp: clock.now() }] }, admin);
        assert.equal(ingest.status, 202);
        if (testCase.expect.delivered) {
          await waitFor(`${metric} delivered`, () => subject.delivered(metric) === 1);
          const attempts = subject.fake.requests.slice(before).filter((request) => subject.metricPath.test(request.path));
          assert.equal(attempts.length, 2, 'one refused attempt, then one delivered');
          assert.equal(attempts[0]!.status, answer.status);
          const retryAfter = answer.headers?.['retry-after'];
          if (retryAfter !== undefined && !/^\d+$/.test(retryAfter)) assert.ok(attempts[1]!.at >= Date.parse(retryAfter), 'retried before the Retry-After date');
          if (testCase.expect.minPauseMs !== undefined) assert.ok(attempts[1]!.at - attempts[0]!.at >= testCase.expect.minPauseMs, `paused ${attempts[1]!.at - attempts[0]!.at} ms`);
          const retries = sample(await metricsText(vigil.url), 'vigil_delivery_retries_total', { destination: subject.destination, reason: testCase.expect.retryReason });
          assert.equal(retries - retriesBefore, 1);
        } else {
          const status = testCase.expect.status;
          await waitFor(`${metric} dead-lettered`, async () => {
            const listing = await getJson(`${vigil.url}/admin/dead-letters?destination=${subject.destination}&limit=1000`, admin);
            return (listing.body['items'] as Array<{ item: { name: string } }>).some((item) => item.item.name === metric);
          });
          const listing = await getJson(`${vigil.url}/admin/dead-letters?destination=${subject.destination}&limit=1000`, admin);
          const letter = (listing.body['items'] as Array<{ item: { name: string }; status: number; reason: string }>).find((item) => item.item.name === metric)!;
          assert.equal(letter.status, status);
          assert.equal(letter.reason, 'rejected');
          assert.equal(subject.delivered(metric), 0);
          assert.equal(subject.fake.requests.slice(before).filter((request) => subject.metricPath.test(request.path)).length, 1, 'never retried');
        }
      });
    });

    test('413 halves the batch until it fits; every item arrives once', async () => {
      stopClock();
      // Distinct series: Datadog keeps one gauge value per series and second, so Vigil would send one point for all 8.
      const metrics = Array.from({ length: 8 }, (_, index) => ({ name: `split.${subject.destination}`, value: index, timestamp: clock.now(), tags: { seq: String(index) } }));
      const before = subject.fake.requests.length;
      subject.fake.inject(1, { status: 413 }, subject.metricPath);
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics }, admin)).status, 202);
      stopClock = driveClock(clock, 1000);
      await waitFor('split batch delivered', () => subject.delivered(`split.${subject.destination}`) === 8);
      const attempts = subject.fake.requests.slice(before).filter((request) => subject.metricPath.test(request.path));
      assert.deepEqual(attempts.map((request) => request.status), [413, subject.destination === 'datadog' ? 202 : 202, 202]);
    });

    test('an item that ages past what the destination accepts during an outage is dead-lettered as expired, never sent', async () => {
      stopClock();
      const metric = `expiry.${subject.destination}`;
      subject.fake.failAll({ status: 503 });
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: metric, value: 1, timestamp: clock.now() }] }, admin)).status, 202);
      clock.advance(2000);
      await waitFor('a failed attempt', () => subject.fake.requests.some((request) => request.status === 503));
      clock.advance(49 * 3_600_000);
      subject.fake.clearInjected();
      stopClock = driveClock(clock, 1000);
      await waitFor(`${metric} expired`, async () => {
        const listing = await getJson(`${vigil.url}/admin/dead-letters?destination=${subject.destination}&reason=expired`, admin);
        return (listing.body['items'] as Array<{ item: { name: string } }>).some((item) => item.item.name === metric);
      });
      assert.equal(subject.delivered(metric), 0);
    });
  });
}
