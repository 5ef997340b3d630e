import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { TestDatabase } from '../support/databases.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';

/**
 * The VIGIL_SHIP_OWN_LOGS scenario on one store. One app per test file: Nest's `Logger` goes
 * to the app started last, so lines of an earlier app still running would reach a later app's
 * stream (and buffer).
 */
export function ownLogsScenario(name: string, make: () => Promise<TestDatabase>): void {
  describe(`VIGIL_SHIP_OWN_LOGS on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const elasticsearch = new FakeElasticsearch();

    before(async () => {
      database = await make();
      await elasticsearch.start();
      // Elasticsearch is down for the first requests: the delivery core logs that, and those lines must stay home.
      elasticsearch.requestFaults.push({ status: 503 }, { status: 503 }, { status: 503 });
      vigil = await startApp(
        {
          DATABASE_URL: database.url,
          VIGIL_INGEST_KEYS: 'ingest-key-0123456789',
          ELASTICSEARCH_URL: elasticsearch.url,
          VIGIL_SHIP_OWN_LOGS: 'true',
          VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '100',
        },
        { clock },
      );
    });
    after(async () => {
      await vigil.close();
      await elasticsearch.stop();
      await database.drop();
    });

    test('own lines at info and above reach Elasticsearch as service vigil; lines about shipping never do', async () => {
      const refused = await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'x' }] }, { authorization: 'Bearer wrong-key-0123456789' });
      assert.equal(refused.status, 401);
      const accepted = await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'from a client', timestamp: clock.now() }] }, { authorization: 'Bearer ingest-key-0123456789' });
      assert.equal(accepted.status, 202);

      const own = () => elasticsearch.documents().filter(({ document }) => document['service'] === 'vigil');
      const requestLine = () =>
        own().find(({ document }) => document['message'] === 'request completed' && (document['attributes'] as Record<string, unknown>)['status_code'] === 401);
      const deadline = Date.now() + 30_000;
      while (!(requestLine() && elasticsearch.documents().some(({ document }) => document['message'] === 'from a client')) && Date.now() < deadline) {
        clock.advance(1_000);
        await delay(25);
      }
      const line = requestLine();
      assert.ok(line, 'the 401 request line was shipped');
      assert.equal(line.document['level'], 'warn');
      assert.equal(line.document['environment'], 'production');
      assert.equal(typeof line.document['request_id'], 'string');

      // The delivery core did complain about the 503s (on stdout) ...
      const shippingComplaints = vigil.logs.lines
        .map((text) => JSON.parse(text) as { level: number; context?: string })
        .filter((record) => record.level >= 40 && typeof record.context === 'string' && record.context.startsWith('Delivery'));
      assert.ok(shippingComplaints.length > 0, 'the outage was logged');
      // ... and none of those lines, nor any other line about shipping or below info, was shipped.
      for (const { document } of own()) {
        const context = (document['attributes'] as { context?: unknown }).context;
        assert.ok(!(typeof context === 'string' && /^(Delivery|Elasticsearch|Splunk|OwnLog)/.test(context)), `shipped a line about shipping: ${String(document['message'])}`);
        assert.notEqual(document['level'], 'debug');
      }
      assert.ok(own().length >= 2, 'startup lines were shipped too');
    });
  });
}
