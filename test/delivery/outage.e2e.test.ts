import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { BOTH_DATABASES, sqliteDatabase, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { DATADOG_SERIES_MAX_RAW, DATADOG_SERIES_MAX_WIRE, FakeDatadog } from '../fakes/datadog-intake.js';
import { driveClock, metricsText, sample, waitFor } from './delivery-support.js';

const OUTAGE_MS = 5 * 60_000;

function books(text: string, destination: string) {
  const outcome = (name: string) => sample(text, 'vigil_delivery_items_total', { destination, outcome: name });
  return {
    accepted: outcome('accepted'),
    delivered: outcome('delivered'),
    deadLettered: outcome('dead_lettered'),
    dropped: outcome('dropped'),
    queued: sample(text, 'vigil_delivery_queue_depth_items', { destination }),
  };
}

/** Distinct `seq:<n>` tags that reached the fake, and how many points carried one at all. */
function arrivals(fake: FakeDatadog): { unique: Set<string>; total: number } {
  const tags = fake.points.flatMap((point) => point.tags.filter((tag) => tag.startsWith('seq:')));
  return { unique: new Set(tags), total: tags.length };
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`outage of five minutes on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const fake = new FakeDatadog('dd-key-0123456789', () => clock.now());
    let stopClock: () => void = () => undefined;

    before(async () => {
      database = await make();
      await fake.start();
      vigil = await startApp({ DATABASE_URL: database.url, DATADOG_API_KEY: fake.apiKey, DATADOG_API_URL: fake.url }, { clock });
    });
    after(async () => {
      stopClock();
      await vigil.close();
      await fake.close();
      await database.drop();
    });

    test('every item accepted during the outage arrives after it, in bounded retries, within the size limits', async () => {
      const outageStart = clock.now();
      fake.failAll({ status: 503 });
      stopClock = driveClock(clock, 1000);
      let sequence = 0;
      // 20 requests of 100 points spread over the outage.
      while (clock.now() < outageStart + OUTAGE_MS) {
        const metrics = Array.from({ length: 100 }, () => ({ name: 'outage.points', value: sequence, timestamp: clock.now(), tags: { seq: String(sequence++) } }));
        assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics })).status, 202);
        if (sequence >= 2000) break;
        const next = clock.now() + OUTAGE_MS / 20;
        await waitFor('the clock', () => clock.now() >= next);
      }
      await waitFor('the outage to end', () => clock.now() >= outageStart + OUTAGE_MS);
      const failedAttempts = fake.requests.length;
      assert.ok(failedAttempts > 0);
      fake.clearInjected();
      await waitFor('every item delivered', () => arrivals(fake).unique.size === sequence, 20_000);
      // The fake has them; Vigil commits its position right after the answer.
      await waitFor('the delivery committed', async () => books(await metricsText(vigil.url), 'datadog').queued === 0);
      stopClock();

      const { unique, total } = arrivals(fake);
      assert.equal(unique.size, sequence);
      assert.equal(total, sequence, 'no duplicates without a crash');
      // Capped backoff (≤ 30 s, full jitter) over 5 minutes: a few dozen attempts, not thousands.
      assert.ok(failedAttempts <= 80, `${failedAttempts} failed attempts`);
      for (const request of fake.requests) {
        assert.ok(request.wireBytes <= DATADOG_SERIES_MAX_WIRE && request.rawBytes <= DATADOG_SERIES_MAX_RAW, 'a request exceeded a size limit');
        assert.notEqual(request.status, 413);
      }
      assert.equal(fake.stale, 0);
      const text = await metricsText(vigil.url);
      assert.equal(sample(text, 'vigil_delivery_retries_total', { destination: 'datadog', reason: 'server_error' }), failedAttempts);
      assert.deepEqual(books(text, 'datadog'), { accepted: sequence, delivered: sequence, deadLettered: 0, dropped: 0, queued: 0 });
    });
  });
}

describe('the books balance (sqlite)', () => {
  let vigil: RunningApp | undefined;
  let fake: FakeDatadog | undefined;
  let stopClock: () => void = () => undefined;
  afterEach(async () => {
    stopClock();
    await vigil?.close();
    await fake?.close();
  });

  test('accepted = delivered + queued + dead-lettered + dropped, with exact numbers', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    fake = new FakeDatadog('dd-key-0123456789', () => clock.now());
    await fake.start();
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, DATADOG_API_KEY: fake.apiKey, DATADOG_API_URL: fake.url }, { clock });
    stopClock = driveClock(clock, 200);
    const now = clock.now();
    // 5 fresh metrics: delivered. 3 two hours old: expired (Datadog takes 1 h). 2 events, the first refused with 400.
    // Distinct series (seq tags): Datadog keeps one gauge value per series and second, and Vigil sends only that one.
    await postJson(`${vigil.url}/ingest/metrics`, { metrics: Array.from({ length: 5 }, (_, index) => ({ name: 'books.fresh', value: index, timestamp: now, tags: { seq: String(index) } })) });
    await postJson(`${vigil.url}/ingest/metrics`, { metrics: Array.from({ length: 3 }, (_, index) => ({ name: 'books.old', value: index, timestamp: now - 2 * 3_600_000 })) });
    fake.inject(1, { status: 400 }, /\/api\/v1\/events/);
    await postJson(`${vigil.url}/ingest/events`, { events: [{ title: 'one', text: 'a' }, { title: 'two', text: 'b' }] });
    await waitFor('first items settled', async () => {
      const current = books(await metricsText(vigil!.url), 'datadog');
      return current.delivered === 6 && current.deadLettered === 4;
    });
    // With the clock stopped the next 4 wait for their batch to fill or age: queued.
    stopClock();
    await postJson(`${vigil.url}/ingest/metrics`, { metrics: Array.from({ length: 4 }, (_, index) => ({ name: 'books.queued', value: index, timestamp: clock.now() })) });
    await waitFor('the queue to count them', async () => books(await metricsText(vigil!.url), 'datadog').accepted === 14);
    const text = await metricsText(vigil.url);
    assert.deepEqual(books(text, 'datadog'), { accepted: 14, delivered: 6, deadLettered: 4, dropped: 0, queued: 4 });
    assert.equal(sample(text, 'vigil_delivery_dead_lettered_total', { destination: 'datadog', reason: 'expired' }), 3);
    assert.equal(sample(text, 'vigil_delivery_dead_lettered_total', { destination: 'datadog', reason: 'rejected' }), 1);
    assert.equal(sample(text, 'vigil_delivery_dead_letters', { destination: 'datadog', reason: 'expired' }), 3);
    assert.equal(fake.points.filter((point) => point.metric === 'books.fresh').length, 5);
    assert.equal(fake.points.filter((point) => point.metric === 'books.old').length, 0);
    assert.equal(fake.events.length, 1);
  });

  test('drop_oldest: a full queue passes its oldest items, counted as dropped; the books still balance', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    fake = new FakeDatadog('dd-key-0123456789', () => clock.now());
    await fake.start();
    vigil = await startApp(
      { DATABASE_URL: sqliteDatabase().url, DATADOG_API_KEY: fake.apiKey, DATADOG_API_URL: fake.url, VIGIL_QUEUE_FULL_POLICY: 'drop_oldest', VIGIL_QUEUE_MAX_BYTES_DATADOG: '4000' },
      { clock },
    );
    fake.failAll({ status: 503 });
    stopClock = driveClock(clock, 500);
    let sent = 0;
    for (let round = 0; round < 10; round++) {
      const metrics = Array.from({ length: 10 }, () => ({ name: 'drop.points', value: sent, timestamp: clock.now(), tags: { seq: String(sent++) } }));
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics })).status, 202, 'drop_oldest never refuses ingest');
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await waitFor('drops', async () => books(await metricsText(vigil!.url), 'datadog').dropped > 0);
    fake.clearInjected();
    await waitFor('the queue to drain', async () => {
      const current = books(await metricsText(vigil!.url), 'datadog');
      return current.accepted === sent && current.queued === 0;
    });
    const current = books(await metricsText(vigil.url), 'datadog');
    const { unique } = arrivals(fake);
    assert.equal(current.delivered, unique.size);
    assert.ok(current.dropped > 0);
    assert.equal(current.accepted, current.delivered + current.dropped + current.deadLettered + current.queued);
    assert.equal(sample(await metricsText(vigil.url), 'vigil_delivery_dropped_total', { destination: 'datadog', reason: 'queue_full' }), current.dropped);
    // The newest items survive: the last one sent arrived.
    assert.ok(unique.has(`seq:${sent - 1}`));
  });

  test('block: a full queue makes ingest of its kinds answer 503 with Retry-After and readiness fail, until it drains', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    fake = new FakeDatadog('dd-key-0123456789', () => clock.now());
    await fake.start();
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, DATADOG_API_KEY: fake.apiKey, DATADOG_API_URL: fake.url, VIGIL_QUEUE_MAX_BYTES_DATADOG: '2000' }, { clock });
    fake.failAll({ status: 503 });
    stopClock = driveClock(clock, 500);
    let refused: Awaited<ReturnType<typeof postJson>> | undefined;
    let accepted = 0;
    for (let round = 0; round < 50 && !refused; round++) {
      // Distinct series, so each item is its own point at Datadog.
      const metrics = Array.from({ length: 5 }, (_, index) => ({ name: 'block.points', value: index, tags: { seq: String(round * 5 + index) } }));
      const response = await postJson(`${vigil.url}/ingest/metrics`, { metrics });
      if (response.status === 503) refused = response;
      else {
        accepted += 5;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    }
    assert.ok(refused, 'ingest was never refused');
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.match(String(refused.body['message']), /delivery queue for datadog is full/);
    assert.equal((await postJson(`${vigil.url}/ingest/events`, { events: [{ title: 't', text: 'x' }] })).status, 503);
    // Logs do not go to Datadog: unaffected.
    assert.equal((await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'hello' }] })).status, 202);
    assert.equal((await getJson(`${vigil.url}/health/ready`)).status, 503);

    fake.clearInjected();
    await waitFor('the queue to drain', async () => books(await metricsText(vigil!.url), 'datadog').queued === 0);
    assert.equal((await getJson(`${vigil.url}/health/ready`)).status, 200);
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'block.after', value: 1 }] })).status, 202);
    assert.equal(fake.points.filter((point) => point.metric === 'block.points').length, accepted, 'nothing was dropped');
  });
});
