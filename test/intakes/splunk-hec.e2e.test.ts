import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import SplunkLogging from 'splunk-logging';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';
import { FakeSplunkHec } from '../fakes/splunk-hec.fake.js';

const INGEST_KEY = 'hec-ingest-key-0123456789';
const READ_KEY = 'hec-read-key-0123456789';

interface SplunkAnswer { error: Error | null; status: number | undefined; body: Record<string, unknown> }

/** Sends `count` events through the real splunk-logging client in one batch and flushes it. */
function sendWithSplunkLogging(url: string, token: string, events: Array<{ message: Record<string, unknown>; metadata?: Record<string, string>; severity?: string }>): Promise<SplunkAnswer> {
  const logger = new SplunkLogging.Logger({ token, url, maxBatchCount: 0 });
  const errors: Error[] = [];
  logger.error = (error: Error) => errors.push(error);
  for (const event of events) logger.send(event);
  return new Promise((resolve) => {
    logger.flush((error, response, body) => {
      resolve({ error: error ?? errors[0] ?? null, status: (response as { statusCode?: number } | undefined)?.statusCode, body: body as Record<string, unknown> });
    });
  });
}

async function hecPost(url: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers: { authorization: `Splunk ${INGEST_KEY}`, ...headers }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, contentType: response.headers.get('content-type') };
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`Splunk HEC intake on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const forwardedTo = new FakeSplunkHec({ tokens: ['downstream-token'] });
    const storedLogs = async () =>
      (await storedEntries(vigil.app.get<Db>(DATABASE), ['log'])).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
    const storedMetrics = async () =>
      (await storedEntries(vigil.app.get<Db>(DATABASE), ['metric'])).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);

    before(async () => {
      database = await make();
      await forwardedTo.start();
      vigil = await startApp({
        DATABASE_URL: database.url,
        VIGIL_INGEST_KEYS: INGEST_KEY,
        VIGIL_READ_KEYS: READ_KEY,
        SPLUNK_HEC_URL: forwardedTo.url,
        SPLUNK_HEC_TOKEN: 'downstream-token',
        VIGIL_DELIVERY_FLUSH_INTERVAL_MS: '50',
        VIGIL_MAX_BATCH: '100',
      });
    });
    after(async () => {
      await vigil.close();
      await forwardedTo.stop();
      await database.drop();
    });

    test('splunk-logging, unchanged: every event stored once, mapped, and forwarded to the log destination', async () => {
      const events = Array.from({ length: 25 }, (_, index) => ({
        message: { message: `payment ${index}`, orderId: `o-${index}` },
        severity: index % 5 === 0 ? 'error' : 'info',
        metadata: { host: 'host-1', source: 'billing', sourcetype: '_json', index: 'main' },
      }));
      const answer = await sendWithSplunkLogging(vigil.url, INGEST_KEY, events);
      assert.equal(answer.error, null);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { text: 'Success', code: 0 });

      const logs = await storedLogs();
      assert.equal(logs.length, 25);
      const first = logs.find((log) => log['message'] === 'payment 0')!;
      assert.equal(first['level'], 'error');
      assert.equal(first['service'], 'billing');
      assert.deepEqual(first['attributes'], { host: 'host-1', source: 'billing', sourcetype: '_json', index: 'main', orderId: 'o-0' });
      assert.equal(logs.filter((log) => log['level'] === 'error').length, 5);

      for (let waited = 0; forwardedTo.events.length < 25 && waited < 200; waited++) await new Promise((resolve) => setTimeout(resolve, 50));
      const forwarded = new Set(forwardedTo.events.map((event) => (event['event'] as { message: string }).message));
      assert.deepEqual([...forwarded].sort(), events.map((event) => String(event.message['message'])).sort());
    });

    test('a wrong or missing token gets HEC\'s refusal, with its code, and nothing is stored', async () => {
      const before = (await storedLogs()).length;
      const wrong = await sendWithSplunkLogging(vigil.url, 'not-a-key', [{ message: { message: 'x' } }]);
      assert.equal(wrong.status, 403);
      assert.deepEqual(wrong.body, { text: 'Invalid token', code: 4 });
      assert.equal((wrong.error as Error & { code?: number }).code, 4);
      const missing = await fetch(`${vigil.url}/services/collector/event`, { method: 'POST', body: '{"event":"x"}' });
      assert.equal(missing.status, 401);
      assert.deepEqual(await missing.json(), { text: 'Token is required', code: 2 });
      const readOnly = await hecPost(`${vigil.url}/services/collector`, '{"event":"x"}', { authorization: `Splunk ${READ_KEY}` });
      assert.equal(readOnly.status, 403);
      assert.deepEqual(readOnly.body, { text: 'Invalid token', code: 4 });
      const queryToken = await fetch(`${vigil.url}/services/collector?token=${INGEST_KEY}`, { method: 'POST', body: '{"event":"x"}' });
      assert.equal(queryToken.status, 400);
      assert.deepEqual(await queryToken.json(), { text: 'Query string authorization is not enabled', code: 16 });
      assert.equal((await storedLogs()).length, before);
    });

    test('the events before an invalid one are kept, as Splunk keeps them; the answer names it', async () => {
      const before = (await storedLogs()).length;
      const body = '{"event":"first"}{"event":{"message":"second"}}{"time":"1"}{"event":"fourth"}';
      const missingEvent = await hecPost(`${vigil.url}/services/collector/event`, body);
      assert.equal(missingEvent.status, 400);
      assert.deepEqual(missingEvent.body, { text: 'Event field is required', code: 12, 'invalid-event-number': 2 });
      const broken = await hecPost(`${vigil.url}/services/collector`, '{"event":"third"} {"event": nope}');
      assert.deepEqual(broken.body, { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
      // Valid JSON that Vigil's validation refuses (a time in 1970): the same answer.
      const tooOld = await hecPost(`${vigil.url}/services/collector`, '{"event":"fifth"}{"event":"sixth","time":5}{"event":"seventh"}');
      assert.deepEqual(tooOld.body, { text: 'Invalid data format', code: 6, 'invalid-event-number': 1 });
      const blank = await hecPost(`${vigil.url}/services/collector`, '{"event":""}');
      assert.deepEqual(blank.body, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': 0 });
      const empty = await hecPost(`${vigil.url}/services/collector`, '');
      assert.deepEqual(empty.body, { text: 'No data', code: 5 });
      const messages = (await storedLogs()).slice(before).map((log) => log['message']);
      assert.deepEqual(messages, ['first', 'second', 'third', 'fifth']);
    });

    test('raw lines, gzip, metric events, acknowledgements and health', async () => {
      const before = (await storedLogs()).length;
      const raw = await hecPost(`${vigil.url}/services/collector/raw?host=web-2&source=nginx`, gzipSync('GET /a 200\n\nGET /b 500\r\nGET /c 200\n'), {
        'content-encoding': 'gzip',
        'content-type': 'text/plain',
      });
      assert.deepEqual(raw.body, { text: 'Success', code: 0 });
      const rawLogs = (await storedLogs()).slice(before);
      assert.deepEqual(rawLogs.map((log) => log['message']), ['GET /a 200', 'GET /b 500', 'GET /c 200']);
      assert.deepEqual(rawLogs[1]!['attributes'], { host: 'web-2', source: 'nginx' });

      const metricsBefore = (await storedMetrics()).length;
      const metric = await hecPost(`${vigil.url}/services/collector`, JSON.stringify({ event: 'metric', time: 1796621816.5, host: 'h1', fields: { region: 'eu', 'metric_name:cpu.idle': 97.5, 'metric_name:mem.used': '512' } }), { 'content-type': 'application/json' });
      assert.deepEqual(metric.body, { text: 'Success', code: 0 });
      const metrics = (await storedMetrics()).slice(metricsBefore);
      assert.deepEqual(metrics.map((item) => [item['name'], item['value'], item['timestamp'], item['tags']]), [
        ['cpu.idle', 97.5, 1796621816500, { region: 'eu', host: 'h1' }],
        ['mem.used', 512, 1796621816500, { region: 'eu', host: 'h1' }],
      ]);

      const channel = randomUUID();
      const firstAck = await hecPost(`${vigil.url}/services/collector`, '{"event":"acked 1"}', { 'x-splunk-request-channel': channel });
      const secondAck = await hecPost(`${vigil.url}/services/collector`, '{"event":"acked 2"}', { 'x-splunk-request-channel': channel });
      assert.deepEqual([firstAck.body, secondAck.body], [{ text: 'Success', code: 0, ackId: 0 }, { text: 'Success', code: 0, ackId: 1 }]);
      const acks = await hecPost(`${vigil.url}/services/collector/ack`, JSON.stringify({ acks: [0, 1, 2] }), { 'x-splunk-request-channel': channel });
      assert.deepEqual(acks.body, { acks: { '0': true, '1': true, '2': false } });
      const badChannel = await hecPost(`${vigil.url}/services/collector`, '{"event":"x"}', { 'x-splunk-request-channel': 'not-a-guid' });
      assert.deepEqual(badChannel.body, { text: 'Invalid data channel', code: 11 });

      const health = await fetch(`${vigil.url}/services/collector/health`);
      assert.equal(health.status, 200);
      assert.deepEqual(await health.json(), { text: 'HEC is healthy', code: 17 });
    });

    test('hostile bodies: every refusal is HEC-shaped and 4xx, nothing stored', async () => {
      const before = (await storedLogs()).length;
      const tooMany = await hecPost(`${vigil.url}/services/collector`, '{"event":"x"}'.repeat(101));
      assert.deepEqual(tooMany.body, { text: 'Invalid data format', code: 6, 'invalid-event-number': 100 });
      const notGzip = await hecPost(`${vigil.url}/services/collector`, 'plain', { 'content-encoding': 'gzip' });
      assert.equal(notGzip.status, 400);
      assert.equal(notGzip.body['code'], 6);
      const unterminated = await hecPost(`${vigil.url}/services/collector`, `{"event":"${'a'.repeat(10_000)}`);
      assert.deepEqual(unterminated.body, { text: 'Invalid data format', code: 6, 'invalid-event-number': 0 });
      const deep = await hecPost(`${vigil.url}/services/collector`, `{"event":${'{"a":'.repeat(50)}1${'}'.repeat(50)}}`);
      assert.equal(deep.status, 400);
      assert.equal(deep.body['code'], 6);
      const huge = await hecPost(`${vigil.url}/services/collector`, Buffer.alloc(vigil.config.http.maxBodyBytes + 1, 0x20));
      assert.equal(huge.status, 413);
      assert.equal(huge.body['code'], 6);
      assert.match(String(huge.contentType), /application\/json/);
      // The 100 events before the one over VIGIL_MAX_BATCH are kept, as events before an invalid one are.
      assert.equal((await storedLogs()).length, before + 100);
    });
  });
}
