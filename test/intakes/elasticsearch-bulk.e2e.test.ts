import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client, errors } from '@elastic/elasticsearch';
import pino from 'pino';
import { createRequire } from 'node:module';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';

// pino-elasticsearch is CommonJS whose types declare an ES default export; require() gives the function.
const pinoElasticsearch = createRequire(import.meta.url)('pino-elasticsearch') as typeof import('pino-elasticsearch').default;

const INGEST_KEY = 'es-ingest-key-0123456789';
const READ_KEY = 'es-read-key-0123456789';

for (const { name, make } of BOTH_DATABASES) {
  describe(`Elasticsearch bulk intake on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const storedLogs = async () =>
      (await storedEntries(vigil.app.get<Db>(DATABASE), ['log'])).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_READ_KEYS: READ_KEY, VIGIL_MAX_BATCH: '100' });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('the official client: info, license, and helpers.bulk with per-item results; refused documents dropped, the rest stored once', async () => {
      const client = new Client({ node: vigil.url, auth: { apiKey: INGEST_KEY } });
      const info = await client.info();
      assert.equal(info.version.number, '8.17.0');
      assert.equal(await client.ping(), true);
      assert.equal((await client.license.get()).license.status, 'active');

      const before = (await storedLogs()).length;
      const base = Date.UTC(2026, 11, 7, 12);
      const documents = Array.from({ length: 230 }, (_, index) => ({
        '@timestamp': index % 77 === 5 ? 'not a time' : new Date(base + index).toISOString(),
        message: `order ${index}`,
        'log.level': index % 10 === 0 ? 'ERROR' : 'info',
        service: { name: 'checkout', version: '2.1' },
        orderId: index,
      }));
      const refused = documents.filter((document) => document['@timestamp'] === 'not a time').map((document) => document.message);
      const dropped: Array<{ status: number; message: string }> = [];
      const result = await client.helpers.bulk({
        datasource: documents,
        onDocument: () => ({ create: { _index: 'logs-checkout-default' } }),
        onDrop: (item) => dropped.push({ status: item.status, message: String((item.document as { message: string }).message) }),
        // 150 documents per request: VIGIL_MAX_BATCH is 100, so 50 of each answer 429 and are retried.
        flushBytes: 10_000_000,
        concurrency: 1,
        wait: 50,
      } as Parameters<typeof client.helpers.bulk>[0] & { flushBytes: number });
      assert.equal(result.total, 230);
      assert.equal(result.failed, refused.length);
      assert.equal(result.successful, 230 - refused.length);
      assert.deepEqual(dropped.map((drop) => drop.status), refused.map(() => 400));
      assert.deepEqual(dropped.map((drop) => drop.message).sort(), [...refused].sort());

      const logs = (await storedLogs()).slice(before);
      assert.equal(logs.length, 230 - refused.length);
      assert.equal(new Set(logs.map((log) => log['message'])).size, logs.length);
      const zero = logs.find((log) => log['message'] === 'order 0')!;
      assert.equal(zero['level'], 'error');
      assert.equal(zero['service'], 'checkout');
      assert.equal(zero['timestamp'], base);
      assert.deepEqual(zero['attributes'], { _index: 'logs-checkout-default', service: { name: 'checkout', version: '2.1' }, orderId: 0 });
    });

    test('pino-elasticsearch, unchanged: every line stored once with pino levels mapped', async () => {
      const before = (await storedLogs()).length;
      const stream = pinoElasticsearch({ index: 'app-logs-%{DATE}', node: vigil.url, auth: { username: 'elastic', password: INGEST_KEY }, esVersion: 8, flushBytes: 2000, flushInterval: 100 });
      const failures: unknown[] = [];
      stream.on('insertError', (error: unknown) => failures.push(error));
      stream.on('error', (error: unknown) => failures.push(error));
      const logger = pino({ base: { service: 'billing' } }, stream);
      for (let index = 0; index < 40; index++) {
        if (index % 4 === 0) logger.error({ invoice: index }, `invoice ${index} failed`);
        else logger.info({ invoice: index }, `invoice ${index}`);
      }
      for (let waited = 0; (await storedLogs()).length < before + 40 && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 50));
      stream.end();
      assert.deepEqual(failures, []);
      const logs = (await storedLogs()).slice(before);
      assert.equal(logs.length, 40);
      assert.equal(logs.filter((log) => log['level'] === 'error').length, 10);
      const first = logs.find((log) => log['message'] === 'invoice 0 failed')!;
      assert.equal(first['service'], 'billing');
      assert.match(String((first['attributes'] as Record<string, unknown>)['_index']), /^app-logs-\d{4}-\d{2}-\d{2}$/);
    });

    test('refusals in Elasticsearch\'s shape with the product header; nothing stored', async () => {
      const before = (await storedLogs()).length;
      const wrong = new Client({ node: vigil.url, auth: { apiKey: 'not-a-key' } });
      await assert.rejects(
        () => wrong.bulk({ operations: [{ create: { _index: 'x' } }, { message: 'never' }] }),
        (error: unknown) => error instanceof errors.ResponseError && error.statusCode === 401 && (error.body as { error: { type: string } }).error.type === 'security_exception',
      );
      const missing = await fetch(`${vigil.url}/_bulk`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: '{"create":{"_index":"x"}}\n{"message":"never"}\n' });
      assert.equal(missing.status, 401);
      assert.equal(missing.headers.get('x-elastic-product'), 'Elasticsearch');
      assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'security_exception');
      const readOnly = await fetch(`${vigil.url}/_bulk`, { method: 'POST', headers: { authorization: `ApiKey ${READ_KEY}`, 'content-type': 'application/x-ndjson' }, body: '{"create":{"_index":"x"}}\n{"message":"never"}\n' });
      assert.equal(readOnly.status, 403);

      const auth = { authorization: `ApiKey ${Buffer.from(`some-id:${INGEST_KEY}`).toString('base64')}`, 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8' };
      const malformed = await fetch(`${vigil.url}/_bulk`, { method: 'POST', headers: auth, body: '{"create":{"_index":"x"}}\n{"message": nope}\n' });
      assert.equal(malformed.status, 400);
      assert.equal(malformed.headers.get('x-elastic-product'), 'Elasticsearch');
      assert.equal(((await malformed.json()) as { error: { type: string } }).error.type, 'x_content_parse_exception');
      const unknownAction = await fetch(`${vigil.url}/_bulk`, { method: 'POST', headers: auth, body: '{"upsert":{"_index":"x"}}\n{}\n' });
      assert.equal(unknownAction.status, 400);
      const empty = await fetch(`${vigil.url}/_bulk`, { method: 'POST', headers: auth, body: '' });
      assert.equal(empty.status, 400);

      const mixed = await fetch(`${vigil.url}/logs-a/_bulk`, {
        method: 'POST',
        headers: auth,
        body: '{"delete":{"_id":"1"}}\n{"index":{"_id":"kept-1"}}\n{"message":"kept"}\n{"update":{"_id":"2"}}\n{"doc":{"a":1}}\n{"create":{}}\n"not an object"\n',
      });
      assert.equal(mixed.status, 200);
      const answer = (await mixed.json()) as { errors: boolean; items: Array<Record<string, { status: number; _id: string; _index: string; result?: string }>> };
      assert.equal(answer.errors, true);
      assert.deepEqual(answer.items.map((item) => [Object.keys(item)[0], Object.values(item)[0]!.status]), [['delete', 400], ['index', 201], ['update', 400], ['create', 400]]);
      assert.deepEqual([answer.items[1]!['index']!._id, answer.items[1]!['index']!._index, answer.items[1]!['index']!.result], ['kept-1', 'logs-a', 'created']);
      const logs = (await storedLogs()).slice(before);
      assert.deepEqual(logs.map((log) => log['message']), ['kept']);
    });
  });
}
