import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { FakeSplunkHec, HEC_ANSWERS } from '../fakes/splunk-hec.fake.js';

const TOTAL = 10_000;
const PER_REQUEST = 2_000;
const INGEST_KEY = 'ingest-key-0123456789';
const ADMIN_KEY = 'admin-key-0123456789';

/** A stable pseudo-random number in [0, 1) per string, so the injected faults are the same on every run. */
function unit(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Moves the test's clock on (backoff and flush waits are measured on it) until
 * `done()` holds, or fails after `realMs` of real time.
 */
async function driveUntil(clock: ManualClock, done: () => boolean | Promise<boolean>, realMs: number): Promise<void> {
  const deadline = Date.now() + realMs;
  while (!(await done())) {
    if (Date.now() > deadline) return;
    clock.advance(1_000);
    await delay(25);
  }
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`log shipping end to end on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    const elasticsearch = new FakeElasticsearch();
    const hec = new FakeSplunkHec({ tokens: ['hec-token'] });
    // Logs whose documents Elasticsearch refuses with a mapping error: dead letters, never documents.
    const refused = new Set(['log 17', 'log 4242', 'log 9999']);

    before(async () => {
      database = await make();
      await elasticsearch.start();
      await hec.start();
      vigil = await startApp(
        {
          DATABASE_URL: database.url,
          VIGIL_INGEST_KEYS: INGEST_KEY,
          VIGIL_ADMIN_KEYS: ADMIN_KEY,
          ENVIRONMENT: 'e2e',
          ELASTICSEARCH_URL: elasticsearch.url,
          ELASTICSEARCH_INDEX_PREFIX: 'e2e-logs',
          SPLUNK_HEC_URL: hec.url,
          SPLUNK_HEC_TOKEN: 'hec-token',
          VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '100',
        },
        { clock },
      );
    });
    after(async () => {
      await vigil.close();
      await elasticsearch.stop();
      await hec.stop();
      await database.drop();
    });

    test(`${TOTAL} logs with injected failures: exactly once in Elasticsearch, at least once in HEC`, async () => {
      // Elasticsearch: per-item 429 and 503 on a first attempt, mapping errors for `refused`,
      // whole-request 503 and 429, and one request indexed whose answer is lost (a 502 after indexing).
      elasticsearch.itemFault = (operation) => {
        const message = String(operation.document['message']);
        if (refused.has(message)) return { status: 400, error: { type: 'document_parsing_exception', reason: `failed to parse field [attributes] for ${message}` } };
        if (operation.previousAttempts > 0) return undefined;
        const draw = unit(operation.id);
        if (draw < 0.05) return { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution (queue capacity 200)' } };
        if (draw < 0.08) return { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } };
        return undefined;
      };
      elasticsearch.requestFaults.push(
        { status: 503 },
        { status: 502, afterProcessing: true },
        { status: 429, headers: { 'retry-after': '3' } },
      );
      hec.faults.push(HEC_ANSWERS.serverBusy, HEC_ANSWERS.internalError, { ...HEC_ANSWERS.serverBusy, headers: { 'retry-after': '2' } });

      const start = clock.now() - 60_000;
      for (let first = 0; first < TOTAL; first += PER_REQUEST) {
        const logs = Array.from({ length: PER_REQUEST }, (_, offset) => {
          const index = first + offset;
          return { message: `log ${index}`, level: index % 10 === 0 ? 'error' : 'info', timestamp: start + index, service: `svc-${index % 3}`, requestId: `r-${index}`, durationMs: index % 100 };
        });
        const response = await postJson(`${vigil.url}/ingest/logs`, { logs }, { authorization: `Bearer ${INGEST_KEY}` });
        assert.equal(response.status, 202, response.text);
        assert.equal(response.body['accepted'], PER_REQUEST);
      }

      const expectedInElasticsearch = TOTAL - refused.size;
      const hecMessages = () => new Set(hec.events.map((event) => (event['event'] as { message: string }).message));
      // Every log can be in place while a retry of a batch already delivered (after a lost answer
      // or a lost lease) is still due: wait for the injected faults as well, which such a retry takes.
      // The refused logs' dead letters are committed after Elasticsearch answers: wait for them too.
      const elasticsearchDeadLetters = async () =>
        Number((await getJson(`${vigil.url}/admin/dead-letters?destination=elasticsearch`, { authorization: `Bearer ${ADMIN_KEY}` })).body['total']);
      await driveUntil(
        clock,
        async () =>
          elasticsearch.documentCount >= expectedInElasticsearch &&
          hecMessages().size >= TOTAL &&
          elasticsearch.requestFaults.length === 0 &&
          hec.faults.length === 0 &&
          (await elasticsearchDeadLetters()) >= refused.size,
        90_000,
      );

      // Elasticsearch: every accepted log exactly once, the refused ones never.
      const documents = elasticsearch.documents();
      const perMessage = new Map<string, number>();
      for (const { document } of documents) perMessage.set(String(document['message']), (perMessage.get(String(document['message'])) ?? 0) + 1);
      assert.equal(documents.length, expectedInElasticsearch);
      assert.equal(perMessage.size, expectedInElasticsearch);
      assert.ok([...perMessage.values()].every((count) => count === 1));
      for (const message of refused) assert.equal(perMessage.has(message), false, message);
      // The lost answer was resent, and `create` with the same _id turned it into 409s, not duplicates.
      assert.ok(elasticsearch.stats.conflicts > 0, 'a redelivery happened');
      assert.ok(elasticsearch.stats.itemFaults > 0 && elasticsearch.stats.requestFaults === 3);
      assert.ok(elasticsearch.templates.has('e2e-logs'), 'index template installed');
      const sample = documents.find(({ document }) => document['message'] === 'log 1234')!;
      assert.equal(sample.index, 'e2e-logs-2026.01.01');
      assert.deepEqual(sample.document, {
        '@timestamp': new Date(start + 1234).toISOString(),
        message: 'log 1234',
        level: 'info',
        service: 'svc-1',
        environment: 'e2e',
        user_id: null,
        request_id: 'r-1234',
        trace_id: null,
        duration_ms: 34,
        attributes: {},
      });

      // HEC: every log at least once, despite busy and internal errors.
      const messages = hecMessages();
      assert.equal(messages.size, TOTAL);
      assert.ok(hec.events.length >= TOTAL);
      assert.equal(hec.stats.faults, 3);

      // The refused ones are dead letters for Elasticsearch only, with Elasticsearch's reason.
      const letters = await getJson(`${vigil.url}/admin/dead-letters?destination=elasticsearch`, { authorization: `Bearer ${ADMIN_KEY}` });
      assert.equal(letters.status, 200, letters.text);
      assert.equal(letters.body['total'], refused.size);
      const details = (letters.body['items'] as Array<{ detail: string; reason: string }>).map((letter) => letter.detail).sort();
      assert.deepEqual(details, [...refused].map((message) => `document_parsing_exception: failed to parse field [attributes] for ${message}`).sort());
      const splunkLetters = await getJson(`${vigil.url}/admin/dead-letters?destination=splunk`, { authorization: `Bearer ${ADMIN_KEY}` });
      assert.equal(splunkLetters.body['total'], 0);
    });
  });
}
