import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client as datadogClient, v2 } from '@datadog/datadog-api-client';
import zstd from '@bokuweb/zstd-wasm';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { IngestKind } from '../../src/ingest-log/ingest-log.items.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';
import { storedEntries } from '../support/stored-entries.js';

const INGEST_KEY = 'dd-ingest-key-0123456789';
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The official API client pointed at Vigil, compressing with zstd: the client names the encoding
 * `zstd1` and takes the compressor from its configuration (the reference zstd library, as wasm).
 */
function zstdConfiguration(url: string) {
  const configuration = datadogClient.createConfiguration({
    authMethods: { apiKeyAuth: INGEST_KEY },
    enableRetry: false,
    zstdCompressorCallback: (body: string) => Buffer.from(zstd.compress(Buffer.from(body, 'utf8'), 3)),
  });
  configuration.setServerVariables({});
  (configuration as unknown as { baseServer: unknown }).baseServer = new datadogClient.BaseServerConfiguration(url, {});
  return configuration;
}

describe('Datadog API bodies in zstd (Content-Encoding zstd, and zstd1 as the official client names it)', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  const stored = async (kind: IngestKind) => (await storedEntries(vigil.app.get<Db>(DATABASE), [kind])).map((entry) => JSON.parse(entry.json) as Record<string, unknown>);
  const post = (path: string, encoding: string, body: Uint8Array) =>
    fetch(`${vigil.url}${path}`, { method: 'POST', headers: { 'dd-api-key': INGEST_KEY, 'content-type': 'application/json', 'content-encoding': encoding }, body });

  before(async () => {
    await zstd.init();
    database = sqliteDatabase();
    vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
  });
  after(async () => {
    await vigil.close();
    await database.drop();
  });

  test('the official client with contentEncoding zstd1 (series v2; its logs API offers gzip and deflate only); logs in zstd by fetch', async () => {
    const configuration = zstdConfiguration(vigil.url);
    const now = Math.floor(Date.now() / 1000);
    const points = Array.from({ length: 300 }, (_, index) => ({ timestamp: now - 300 + index, value: index }));
    const answer = await new v2.MetricsApi(configuration).submitMetrics({ contentEncoding: 'zstd1', body: { series: [{ metric: 'zstd.points', type: 3, points, tags: ['env:zstd'] }] } });
    assert.deepEqual(answer.errors ?? [], []);
    const metrics = (await stored('metric')).filter((item) => item['name'] === 'zstd.points');
    assert.deepEqual(metrics.map((item) => item['value']), points.map((point) => point.value));
    assert.deepEqual(metrics[0]!['tags'], { env: 'zstd' });

    const messages = Array.from({ length: 50 }, (_, index) => `zstd log ${index}`);
    const logsAnswer = await post('/api/v2/logs', 'zstd', zstd.compress(Buffer.from(JSON.stringify(messages.map((message) => ({ message, service: 'zstd-logs' })))), 3));
    assert.equal(logsAnswer.status, 202);
    const logs = (await stored('log')).filter((item) => item['service'] === 'zstd-logs');
    assert.deepEqual(logs.map((item) => item['message']), messages);
  });

  test('Content-Encoding zstd: a v1 series body compressed by the reference library, several frames in one body', async () => {
    const now = Math.floor(Date.now() / 1000);
    const text = JSON.stringify({ series: [{ metric: 'zstd.v1', points: [[now - 5, 7]], type: 'count', tags: ['team:zstd'] }] });
    const answer = await post('/api/v1/series', 'zstd', zstd.compress(Buffer.from(text), 19));
    assert.equal(answer.status, 202);
    // RFC 8878: a stream may hold several frames, decoded one after the other.
    const half = Math.floor(text.length / 2);
    const twoFrames = Buffer.concat([zstd.compress(Buffer.from(text.slice(0, half)), 3), zstd.compress(Buffer.from(text.slice(half)), 3)]);
    assert.equal((await post('/api/v1/series', 'zstd', twoFrames)).status, 202);
    const counts = (await stored('metric')).filter((item) => item['name'] === 'zstd.v1');
    assert.deepEqual(counts.map((item) => [item['type'], item['value']]), [['count', 7], ['count', 7]]);
  });

  test('a decompression bomb is refused with 413 in Datadog\'s error shape; invalid zstd and oversized windows with 400; nothing stored', async () => {
    const before = (await stored('log')).length;
    // 64 MiB of one log line repeated: about 2 KB compressed, 256 times the body limit once expanded.
    const line = JSON.stringify({ message: 'bomb', service: 'zstd-bomb' });
    const bomb = zstd.compress(Buffer.from(`[${Array.from({ length: Math.ceil((64 * 1024 * 1024) / line.length) }, () => line).join(',')}]`), 19);
    assert.ok(bomb.length < 64 * 1024);
    const refused = await post('/api/v2/logs', 'zstd', bomb);
    assert.equal(refused.status, 413);
    assert.deepEqual(await refused.json(), { errors: ['Request body is too large'] });

    const valid = zstd.compress(Buffer.from(JSON.stringify([{ message: 'cut', service: 'zstd-bomb' }])), 3);
    const truncated = await post('/api/v2/logs', 'zstd', valid.subarray(0, valid.length - 3));
    assert.equal(truncated.status, 400);
    assert.match(((await truncated.json()) as { errors: string[] }).errors[0]!, /^Request body is not valid zstd/);
    const garbage = await post('/api/v2/logs', 'zstd', Buffer.from('not zstd at all'));
    assert.equal(garbage.status, 400);
    // A frame header asking for a 128 MiB window (exponent 17), which fzstd would allocate before decoding.
    const wideWindow = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88, 0x01, 0x00, 0x00]);
    const wide = await post('/api/v2/logs', 'zstd', wideWindow);
    assert.equal(wide.status, 400);
    assert.deepEqual(await wide.json(), { errors: ["Request body's zstd frame asks for a 134217728-byte window; at most 8388608 (RFC 9659) are allowed"] });
    assert.equal((await stored('log')).length, before);
  });
});
