import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { UserErasure } from '../../src/common/user-erasure.js';
import { DeliveryRepository } from '../../src/delivery/delivery.repository.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { RetentionJob } from '../../src/ingest-log/retention.job.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeDatadog } from '../fakes/datadog-intake.js';
import { FakeNewRelic } from '../fakes/newrelic-intake.js';
import { driveClock, waitFor } from './delivery-support.js';

const DAY_MS = 86_400_000;

interface Listing {
  total: number;
  counts: Array<{ destination: string; reason: string; count: number }>;
  items: Array<{ id: number; destination: string; reason: string; status: number | null; item: { name: string }; replay_pending: boolean }>;
  next_after: number | null;
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`dead-letter admin endpoints on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const datadog = new FakeDatadog('dd-key-0123456789', () => clock.now());
    const newRelic = new FakeNewRelic('nr-license-0123456789', '42', () => clock.now());
    let stopClock: () => void = () => undefined;
    const admin = { authorization: 'Bearer admin-key-0123456789' };
    const read = { authorization: 'Bearer read-key-0123456789' };
    const list = async (query = '') => (await getJson(`${vigil.url}/admin/dead-letters${query}`, admin)).body as unknown as Listing;

    before(async () => {
      database = await make();
      await datadog.start();
      await newRelic.start();
      vigil = await startApp(
        {
          DATABASE_URL: database.url,
          VIGIL_ADMIN_KEYS: 'admin-key-0123456789',
          VIGIL_READ_KEYS: 'read-key-0123456789',
          DATADOG_API_KEY: datadog.apiKey,
          DATADOG_API_URL: datadog.url,
          NEW_RELIC_LICENSE_KEY: newRelic.licenseKey,
          NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl,
          NEW_RELIC_EVENT_API_URL: newRelic.eventApiUrl,
        },
        { clock },
      );
      stopClock = driveClock(clock, 200);
    });
    after(async () => {
      stopClock();
      await vigil.close();
      await datadog.close();
      await newRelic.close();
      await database.drop();
    });

    test('list (counts and paginated items), replay to the refusing destination only, purge', async () => {
      datadog.inject(1, { status: 422, body: { errors: ['bad metric'] } }, /series/);
      const metrics = Array.from({ length: 3 }, (_, index) => ({ name: `refused.m${index}`, value: index, timestamp: clock.now() }));
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics }, admin)).status, 202);
      await waitFor('dead letters', async () => (await list()).total === 3);
      await waitFor('New Relic delivery', () => newRelic.metrics.length === 3);

      const first = await list('?limit=2');
      assert.equal(first.total, 3);
      assert.deepEqual(first.counts, [{ destination: 'datadog', reason: 'rejected', count: 3 }]);
      assert.equal(first.items.length, 2);
      assert.equal(first.items[0]!.status, 422);
      assert.ok(first.next_after !== null);
      const second = await list(`?limit=2&after=${first.next_after}`);
      assert.equal(second.items.length, 1);
      assert.equal(second.next_after, null);
      assert.deepEqual([...first.items, ...second.items].map((item) => item.item.name).sort(), ['refused.m0', 'refused.m1', 'refused.m2']);
      assert.equal((await list('?destination=newrelic')).total, 0);
      assert.equal((await getJson(`${vigil.url}/admin/dead-letters?destination=nowhere`, admin)).status, 400);
      assert.equal((await getJson(`${vigil.url}/admin/dead-letters?limit=0`, admin)).status, 400);
      assert.equal((await getJson(`${vigil.url}/admin/dead-letters`, read)).status, 403);
      assert.equal((await getJson(`${vigil.url}/admin/dead-letters`)).status, 401);

      const replay = await postJson(`${vigil.url}/admin/dead-letters/replay`, { destination: 'datadog' }, admin);
      assert.equal(replay.status, 202);
      assert.deepEqual(replay.body, { replay_requested: 3 });
      await waitFor('replayed to Datadog', () => datadog.points.filter((point) => point.metric.startsWith('refused.')).length === 3);
      await waitFor('dead letters gone', async () => (await list()).total === 0);
      assert.equal(newRelic.metrics.length, 3, 'the replay went to Datadog only');

      // Purge, by filter.
      datadog.inject(1, { status: 400 }, /series/);
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'refused.again', value: 1, timestamp: clock.now() }] }, admin)).status, 202);
      await waitFor('a dead letter', async () => (await list()).total === 1);
      const purged = await fetch(`${vigil.url}/admin/dead-letters?destination=datadog&reason=rejected`, { method: 'DELETE', headers: admin });
      assert.equal(purged.status, 200);
      assert.deepEqual(await purged.json(), { purged: 1 });
      assert.equal((await list()).total, 0);
    });

    test('user erasure removes dead letters that name the user', async () => {
      const repository = vigil.app.get(DeliveryRepository);
      const db = vigil.app.get<Db>(DATABASE);
      const letter = { destination: 'datadog', kind: 'log' as const, eventTime: 1, receivedAt: 1, payload: '{}', reason: 'rejected' as const, status: 400, detail: 'x' };
      await repository.insertDeadLetters(db, [{ ...letter, logId: 1, userId: 'u-erase' }, { ...letter, logId: 2, userId: 'u-keep' }], clock.now());
      const deleted = await db.transaction().execute((trx) => vigil.app.get(UserErasure).eraseAll(trx, 'u-erase'));
      assert.equal(deleted['delivery_dead_letters'], 1);
      assert.equal((await list()).total, 1);
      await repository.purge({});
    });

    test('retention deletes dead letters older than 30 days, but never one whose replay was requested', async () => {
      const repository = vigil.app.get(DeliveryRepository);
      const db = vigil.app.get<Db>(DATABASE);
      const now = clock.now();
      // Splunk has no queue in this app, so its pending replay stays pending while retention runs.
      const letter = { destination: 'splunk', kind: 'log' as const, eventTime: 1, receivedAt: 1, userId: null, payload: '{}', reason: 'rejected' as const, status: 400, detail: 'x' };
      await repository.insertDeadLetters(db, [{ ...letter, logId: 1 }, { ...letter, logId: 2 }], now - 31 * DAY_MS);
      await repository.insertDeadLetters(db, [{ ...letter, logId: 3 }], now - 29 * DAY_MS);
      const pending = (await repository.list({ destination: 'splunk' }, 0, 10)).find((stored) => stored.logId === 2)!;
      assert.equal(await repository.requestReplay({ ids: [pending.id] }), 1);

      const deleted = await vigil.app.get(RetentionJob).run();
      assert.equal(deleted['delivery_dead_letters'], 1, 'only the old letter nobody asked back');
      const remaining = await repository.list({ destination: 'splunk' }, 0, 10);
      assert.deepEqual(
        remaining.map((stored) => ({ logId: stored.logId, replayRequested: stored.replayRequested })),
        [
          { logId: 2, replayRequested: true },
          { logId: 3, replayRequested: false },
        ],
      );
      await repository.purge({ destination: 'splunk' });
    });
  });
}

describe('a dead destination does not slow a healthy one', () => {
  test('New Relic hangs; Datadog receives everything meanwhile and ingest keeps answering 202', async () => {
    const datadog = new FakeDatadog('dd-key-0123456789');
    const newRelic = new FakeNewRelic('nr-license-0123456789');
    await datadog.start();
    await newRelic.start();
    newRelic.failAll({ status: 0, hang: true });
    const { sqliteDatabase } = await import('../support/databases.js');
    const vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
      DATADOG_API_KEY: datadog.apiKey,
      DATADOG_API_URL: datadog.url,
      NEW_RELIC_LICENSE_KEY: newRelic.licenseKey,
      NEW_RELIC_METRIC_API_URL: newRelic.metricApiUrl,
    });
    try {
      for (let round = 0; round < 5; round++) {
        // Distinct series: Datadog keeps one gauge value per series and second, so Vigil sends one.
        const metrics = Array.from({ length: 100 }, (_, index) => ({ name: 'isolation.points', value: round * 100 + index, tags: { seq: String(round * 100 + index) } }));
        assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics })).status, 202);
        await waitFor(`round ${round} at Datadog`, () => datadog.points.length === (round + 1) * 100);
      }
      assert.equal(newRelic.metrics.length, 0, 'New Relic received nothing: it hangs');
      assert.ok(newRelic.requests.length >= 1, 'New Relic was tried');
    } finally {
      newRelic.clearInjected();
      await vigil.close();
      await datadog.close();
      await newRelic.close();
    }
  });
});
