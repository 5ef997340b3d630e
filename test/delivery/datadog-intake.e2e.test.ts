import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { sqliteDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { advanceUntil, metricsText, sample } from './delivery-support.js';

/**
 * What Datadog's intake does beyond accepting a request, through the whole app
 * on SQLite: it keeps the last value per series and second, rate-limits events
 * with X-RateLimit-* headers, and refuses a revoked key with 403.
 *
 * Time: a ManualClock drives every wait of the delivery core; `advanceUntil`
 * moves it a second per step. One app for the file; the last test reads its log lines.
 */

const API_KEY = 'dd-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const START = Date.UTC(2026, 0, 1, 12);
const FLUSH_MS = 1000;

describe('Datadog intake semantics', () => {
  const clock = new ManualClock(START);
  const fake = new FakeDatadog(API_KEY, () => clock.now());
  let vigil: RunningApp;
  const seriesRequests = () => fake.requests.filter((request) => request.path === '/api/v2/series');
  const queued = async () => sample(await metricsText(vigil.url), 'vigil_delivery_queue_depth_items', { destination: 'datadog' });

  before(async () => {
    await fake.start();
    vigil = await startApp(
      { DATABASE_URL: sqliteDatabase().url, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_DELIVERY_FLUSH_INTERVAL_MS: String(FLUSH_MS), ENVIRONMENT: 'test', DATADOG_API_KEY: API_KEY, DATADOG_API_URL: fake.url },
      { clock },
    );
  });
  after(async () => {
    await vigil.close();
    await fake.close();
  });

  test('counts of one series in the same second of a batch are summed (Datadog keeps the last write); gauges keep the last value', async () => {
    const at = clock.now();
    const second = Math.floor(at / 1000);
    const requestsBefore = seriesRequests().length;
    // One ingest request: one batch. The tag objects differ in key order only, which Datadog ignores.
    const metrics = [
      { name: 'lww.jobs', type: 'count', value: 1, timestamp: at, tags: { queue: 'a', region: 'eu' } },
      { name: 'lww.jobs', type: 'count', value: 2, timestamp: at + 300, tags: { region: 'eu', queue: 'a' } },
      { name: 'lww.jobs', type: 'count', value: 4, timestamp: at + 900, tags: { queue: 'a', region: 'eu' } },
      { name: 'lww.jobs', type: 'count', value: 8, timestamp: at, tags: { queue: 'b', region: 'eu' } },
      { name: 'lww.jobs', type: 'count', value: 16, timestamp: at + 1000, tags: { queue: 'a', region: 'eu' } },
      { name: 'lww.temperature', type: 'gauge', value: 5, timestamp: at, tags: { room: 'r1' } },
      { name: 'lww.temperature', type: 'gauge', value: 7, timestamp: at + 100, tags: { room: 'r1' } },
      { name: 'lww.temperature', type: 'gauge', value: 6, timestamp: at + 200, tags: { room: 'r1' } },
    ];
    const requests = [
      { service: 'lww-api', durationMs: 10, statusCode: 200, timestamp: at },
      { service: 'lww-api', durationMs: 20, statusCode: 500, timestamp: at + 100 },
      { service: 'lww-api', durationMs: 30, statusCode: 200, timestamp: at + 200 },
    ];
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics }, admin)).status, 202);
    assert.equal((await postJson(`${vigil.url}/ingest/requests`, { requests }, admin)).status, 202);
    await advanceUntil(clock, 'the batch delivered', async () => seriesRequests().length > requestsBefore && (await queued()) === 0);

    assert.equal(seriesRequests().length, requestsBefore + 1, 'one batch, one series request');
    const queueA = ['queue:a', 'region:eu', 'env:test'];
    assert.equal(fake.storedValue('lww.jobs', queueA, second), 7, 'the three counts of queue a in that second');
    assert.equal(fake.storedValue('lww.jobs', ['queue:b', 'region:eu', 'env:test'], second), 8);
    assert.equal(fake.storedValue('lww.jobs', queueA, second + 1), 16, 'the next second is its own point');
    assert.equal(fake.storedValue('lww.temperature', ['room:r1', 'env:test'], second), 6, 'the last gauge value');
    const bucket = Math.floor(at / 10_000) * 10;
    assert.equal(fake.storedValue('vigil.requests.count', ['service:lww-api', 'env:test'], bucket), 3);
    assert.equal(fake.storedValue('vigil.requests.errors', ['service:lww-api', 'env:test'], bucket), 1);
    const sent = fake.points.filter((point) => point.metric === 'lww.jobs');
    assert.equal(sent.length, 3, 'one point per series and second on the wire');
    assert.ok(sent.every((point) => point.type === 1 && point.interval === 10));
  });

  test('a second or request bucket sent again in a later batch carries the running total, also when its batch is retried', async () => {
    // Requests of one 10 s bucket arrive over several flushes, and one count second is split
    // across two ingest requests delivered apart: each later point must replace the earlier
    // one with the total, as Datadog keeps only the last.
    const bucketStart = Math.ceil(clock.now() / 10_000) * 10_000;
    clock.set(bucketStart + 500);
    const second = Math.floor(clock.now() / 1000);
    const bucket = bucketStart / 1000;
    const tags = ['service:running-api', 'env:test'];
    const deliver = async (path: string, body: unknown, what: string) => {
      const before = seriesRequests().filter((request) => request.status === 202).length;
      assert.equal((await postJson(`${vigil.url}${path}`, body, admin)).status, 202);
      await advanceUntil(clock, what, async () => seriesRequests().filter((request) => request.status === 202).length > before && (await queued()) === 0);
    };
    const at = clock.now();
    await deliver('/ingest/requests', { requests: [{ service: 'running-api', durationMs: 10, statusCode: 200, timestamp: at }] }, 'first flush');
    await deliver('/ingest/metrics', { metrics: [{ name: 'running.jobs', type: 'count', value: 3, timestamp: at }] }, 'first count');
    assert.equal(fake.storedValue('vigil.requests.count', tags, bucket), 1);
    await deliver(
      '/ingest/requests',
      { requests: [{ service: 'running-api', durationMs: 20, statusCode: 503, timestamp: at + 1 }, { service: 'running-api', durationMs: 30, statusCode: 200, timestamp: at + 2 }] },
      'second flush',
    );
    await deliver('/ingest/metrics', { metrics: [{ name: 'running.jobs', type: 'count', value: 4, timestamp: at + 1 }] }, 'second count');
    assert.equal(fake.storedValue('vigil.requests.count', tags, bucket), 3);
    assert.equal(fake.storedValue('vigil.requests.errors', tags, bucket), 1);
    assert.equal(fake.storedValue('running.jobs', ['env:test'], second), 7);

    // A batch of requests is two calls: its count series are accepted, its duration
    // distribution is refused once, so the batch is retried whole; its requests must not
    // be counted twice.
    fake.inject(1, { status: 503, body: { errors: ['unavailable'] } }, /^\/api\/v1\/distribution_points$/);
    const countPoints = () => fake.points.filter((point) => point.metric === 'vigil.requests.count' && point.tags.includes('service:running-api')).length;
    const pointsBefore = countPoints();
    const distributionCalls = () => fake.requests.filter((request) => request.path === '/api/v1/distribution_points' && request.status === 202).length;
    const distributionsBefore = distributionCalls();
    assert.equal((await postJson(`${vigil.url}/ingest/requests`, { requests: [{ service: 'running-api', durationMs: 40, statusCode: 200, timestamp: at + 3 }] }, admin)).status, 202);
    await advanceUntil(clock, 'the retried batch delivered', async () => distributionCalls() > distributionsBefore && (await queued()) === 0);
    assert.equal(countPoints() - pointsBefore, 2, 'the batch went out twice');
    assert.equal(fake.storedValue('vigil.requests.count', tags, bucket), 4);
  });

  test('a 429 from the events endpoint with X-RateLimit-Reset and no Retry-After pauses Datadog until the window resets', async () => {
    // Two event requests per calendar minute; the test starts 15 s into a minute, so Reset says 45 s.
    const windowStart = Math.ceil(clock.now() / 60_000) * 60_000;
    clock.set(windowStart + 15_000);
    fake.eventRateLimit = { limit: 2, periodSeconds: 60 };
    const retriesBefore = sample(await metricsText(vigil.url), 'vigil_delivery_retries_total', { destination: 'datadog', reason: 'throttled' });
    const eventRequests = () => fake.requests.filter((request) => request.path === '/api/v1/events' && request.at >= windowStart);
    try {
      const events = ['rate-1', 'rate-2', 'rate-3'].map((title) => ({ title, text: `text of ${title}`, timestamp: clock.now() }));
      assert.equal((await postJson(`${vigil.url}/ingest/events`, { events }, admin)).status, 202);
      await advanceUntil(clock, 'every event delivered', () => events.every((event) => fake.events.some((arrived) => arrived.title === event.title)));
    } finally {
      fake.eventRateLimit = null;
    }
    const attempts = eventRequests();
    assert.deepEqual(
      attempts.map((request) => request.status),
      [202, 202, 429, 202],
      'the refused event is not retried before the window resets',
    );
    const refused = attempts[2]!;
    const retried = attempts[3]!;
    const reset = windowStart + 60_000;
    assert.ok(refused.at < reset && refused.at >= windowStart + 15_000, 'refused inside the first window');
    assert.ok(retried.at >= reset, `retried ${retried.at - refused.at} ms after the 429, ${reset - refused.at} ms were asked`);
    assert.ok(retried.at < reset + 10_000, `retried ${retried.at - reset} ms after the window reset`);
    assert.equal(sample(await metricsText(vigil.url), 'vigil_delivery_retries_total', { destination: 'datadog', reason: 'throttled' }) - retriesBefore, 1);
    assert.equal(fake.events.filter((event) => event.title.startsWith('rate-')).length, 3, 'each event once');
  });

  test('a revoked key (403 for a while) dead-letters nothing: the items wait and all arrive once the key works; logged once for the streak', async () => {
    const requestsBefore = seriesRequests().length;
    const logLines = () => vigil.logs.lines.filter((line) => line.includes("datadog refused Vigil's credentials or settings (HTTP 403)"));
    const logsBefore = logLines().length;
    // What Datadog answers a revoked key, on every endpoint, for the next 6 series requests.
    fake.inject(6, { status: 403, body: { errors: ['Forbidden'] } }, /^\/api\/v2\/series$/);
    const sent: string[] = [];
    for (let round = 0; round < 3; round++) {
      const metrics = Array.from({ length: 4 }, (_, index) => ({ name: 'revoked.points', value: index, timestamp: clock.now(), tags: { id: `r${round}-${index}` } }));
      sent.push(...metrics.map((metric) => metric.tags.id));
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics }, admin)).status, 202);
      await advanceUntil(clock, `a refusal in round ${round}`, () => seriesRequests().length > requestsBefore + round);
    }
    const arrived = () => new Set(fake.points.filter((point) => point.metric === 'revoked.points').flatMap((point) => point.tags.filter((tag) => tag.startsWith('id:'))));
    await advanceUntil(clock, 'every item after the key works again', async () => arrived().size === sent.length && (await queued()) === 0, 20_000);

    const statuses = seriesRequests()
      .slice(requestsBefore)
      .map((request) => request.status);
    assert.deepEqual(statuses.slice(0, 6), [403, 403, 403, 403, 403, 403]);
    assert.ok(statuses.slice(6).every((status) => status === 202));
    assert.equal(fake.points.filter((point) => point.metric === 'revoked.points').length, sent.length, 'each item once');
    const listing = await getJson(`${vigil.url}/admin/dead-letters?destination=datadog`, admin);
    assert.equal(listing.body['total'], 0, 'nothing dead-lettered');
    const text = await metricsText(vigil.url);
    assert.equal(sample(text, 'vigil_delivery_retries_total', { destination: 'datadog', reason: 'configuration' }), 6);
    assert.equal(sample(text, 'vigil_delivery_dead_lettered_total', { destination: 'datadog', reason: 'rejected' }), 0);
    assert.equal(sample(text, 'vigil_delivery_paused', { destination: 'datadog' }), 0, 'recovered');

    const lines = logLines().slice(logsBefore);
    assert.equal(lines.length, 1, 'one line for the streak, not one per batch');
    const line = JSON.parse(lines[0]!) as { destination: string; status: number; detail: string };
    assert.equal(line.destination, 'datadog');
    assert.equal(line.status, 403);
    assert.match(line.detail, /Datadog answered 403/);
    assert.equal(vigil.logs.text.includes(API_KEY), false, 'the key is never logged');
    assert.ok(vigil.logs.lines.some((entry) => entry.includes('Delivery to datadog recovered')));
  });
});
