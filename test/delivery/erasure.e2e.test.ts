import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { advanceUntil, metricsText, sample } from './delivery-support.js';

interface Listing {
  total: number;
  items: Array<{ destination: string; reason: string; item: { message?: string; userId?: string } }>;
}

/**
 * A user erased while a destination queue holds the user's logs in memory,
 * retrying them through an outage: after the 204 they are neither sent nor
 * dead-lettered, the queue passes them (counted as dropped, reason erased),
 * and the user's logs ingested after the erasure are delivered.
 */
for (const { name, make } of BOTH_DATABASES) {
  describe(`user erasure while Elasticsearch is failing, on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const elasticsearch = new FakeElasticsearch();
    const admin = { authorization: 'Bearer admin-key-0123456789' };
    const messages = () => elasticsearch.documents().map(({ document }) => String(document['message']));

    before(async () => {
      database = await make();
      await elasticsearch.start();
      vigil = await startApp(
        {
          DATABASE_URL: database.url,
          VIGIL_ADMIN_KEYS: 'admin-key-0123456789',
          ELASTICSEARCH_URL: elasticsearch.url,
          ELASTICSEARCH_INDEX_PREFIX: 'erasure',
        },
        { clock },
      );
    });
    after(async () => {
      await vigil.close();
      await elasticsearch.stop();
      await database.drop();
    });

    test("the held logs of an erased user are never sent nor dead-lettered; the user's later logs are delivered", async () => {
      // Every bulk request fails with 503 until the faults are cleared; the clock moves only when the test moves it.
      for (let fault = 0; fault < 1000; fault++) elasticsearch.requestFaults.push({ status: 503 });
      const logs = [
        { message: 'erased-user-log', level: 'info', userId: 'user-erased' },
        { message: 'kept-user-log', level: 'info', userId: 'user-kept' },
      ];
      assert.equal((await postJson(`${vigil.url}/ingest/logs`, { logs }, admin)).status, 202);
      await advanceUntil(clock, 'a failed attempt with both logs', () => elasticsearch.stats.requestFaults >= 1);

      const erase = await fetch(`${vigil.url}/analytics/user/user-erased`, { method: 'DELETE', headers: admin });
      assert.equal(erase.status, 204);

      // Recovered; every item it receives from now on is recorded. The erased user's old
      // log would be refused for good, so a queue that still held it would dead-letter it.
      const sentAfterErasure: string[] = [];
      elasticsearch.itemFault = ({ document }) => {
        sentAfterErasure.push(String(document['message']));
        return document['message'] === 'erased-user-log' ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'refused' } } : undefined;
      };
      elasticsearch.requestFaults.length = 0;
      await advanceUntil(clock, "the kept user's log at Elasticsearch", () => messages().includes('kept-user-log'));
      await advanceUntil(clock, 'the queue emptied', async () => sample(await metricsText(vigil.url), 'vigil_delivery_queue_depth_items', { destination: 'elasticsearch' }) === 0);

      assert.ok(!sentAfterErasure.includes('erased-user-log'), "the erased user's log was not sent after the 204");
      assert.ok(!messages().includes('erased-user-log'));
      const listing = (await getJson(`${vigil.url}/admin/dead-letters`, admin)).body as unknown as Listing;
      assert.equal(listing.total, 0, 'no dead letter');
      const db = vigil.app.get<Db>(DATABASE);
      const letters = await db.selectFrom('delivery_dead_letters').select('id').where('user_id', '=', 'user-erased').execute();
      assert.equal(letters.length, 0, 'no stored dead letter names the erased user');
      const text = await metricsText(vigil.url);
      assert.equal(sample(text, 'vigil_delivery_dropped_total', { destination: 'elasticsearch', reason: 'erased' }), 1);
      // The books balance: accepted = delivered + dead_lettered + dropped + queued.
      const outcome = (value: string) => sample(text, 'vigil_delivery_items_total', { destination: 'elasticsearch', outcome: value });
      assert.equal(outcome('accepted'), outcome('delivered') + outcome('dead_lettered') + outcome('dropped'));

      // The same user's logs ingested after the erasure are delivered.
      const later = { message: 'erased-user-later-log', level: 'info', userId: 'user-erased' };
      assert.equal((await postJson(`${vigil.url}/ingest/logs`, { logs: [later] }, admin)).status, 202);
      await advanceUntil(clock, "the erased user's later log at Elasticsearch", () => messages().includes('erased-user-later-log'));
      assert.equal(sample(await metricsText(vigil.url), 'vigil_delivery_dropped_total', { destination: 'elasticsearch', reason: 'erased' }), 1);
    });
  });
}
