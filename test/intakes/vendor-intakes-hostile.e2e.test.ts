import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { seededRandom } from '../support/random.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';

const KEY = 'hostile-ingest-key-0123456789';

/** Each vendor route with its credential where its clients put it. */
const ROUTES: Array<{ path: string; headers: Record<string, string> }> = [
  { path: '/services/collector/event', headers: { authorization: `Splunk ${KEY}` } },
  { path: '/services/collector/raw', headers: { authorization: `Splunk ${KEY}` } },
  { path: '/services/collector/ack', headers: { authorization: `Splunk ${KEY}`, 'x-splunk-request-channel': '11111111-2222-3333-4444-555555555555' } },
  { path: '/_bulk', headers: { authorization: `ApiKey ${KEY}`, 'content-type': 'application/x-ndjson' } },
  { path: '/api/v2/series', headers: { 'dd-api-key': KEY, 'content-type': 'application/json' } },
  { path: '/api/v1/series', headers: { 'dd-api-key': KEY, 'content-type': 'text/json' } },
  { path: '/api/v1/distribution_points', headers: { 'dd-api-key': KEY, 'content-type': 'text/json' } },
  { path: '/api/v1/check_run', headers: { 'dd-api-key': KEY, 'content-type': 'application/json' } },
  { path: '/api/v1/events', headers: { 'dd-api-key': KEY, 'content-type': 'application/json' } },
  { path: '/api/v2/logs', headers: { 'dd-api-key': KEY, 'content-type': 'application/json' } },
  { path: '/v1/batch', headers: { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, 'content-type': 'application/json' } },
  { path: '/v1/track', headers: { authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`, 'content-type': 'application/json' } },
  { path: '/batch/', headers: { 'content-type': 'application/json' } },
  { path: '/e/?compression=gzip-js', headers: { 'content-type': 'text/plain' } },
];

/** Bodies careless or hostile clients send; none of them holds a valid item of any protocol. */
function hostileBodies(seed: number): Array<string | Buffer> {
  const random = seededRandom(seed);
  const deep = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const manyAttributes = `{${Array.from({ length: 100_000 }, (_, index) => `"k${index}":${index}`).join(',')}}`;
  return [
    '',
    'null',
    '[]',
    '{}',
    '"just a string"',
    '{"series": "not a list", "batch": 7, "event": null, "api_key": 12}',
    deep(200),
    `[${deep(200)}]`,
    manyAttributes,
    `{"x":"${'\u0000\uffff'.repeat(50_000)}"}`,
    Buffer.from(Array.from({ length: 4096 }, () => Math.floor(random() * 256))),
    gzipSync(Buffer.from('{"truncated":')).subarray(0, 10),
    '{"create":{}}\n{"message": nope}',
    `${'{"index":{"_index":"x"}}\n{"message":1}\n'.repeat(3)}{"delete":`,
  ];
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`vendor intakes refuse hostile bodies with 4xx on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: KEY });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('every hostile body on every vendor route: never a 5xx, never a stored item', async () => {
      const before = (await storedEntries(vigil.app.get<Db>(DATABASE))).length;
      const statuses = new Map<number, number>();
      const storedBy: Record<string, number> = {};
      for (const route of ROUTES) {
        const routeBefore = (await storedEntries(vigil.app.get<Db>(DATABASE))).length;
        for (const body of hostileBodies(7)) {
          const response = await fetch(`${vigil.url}${route.path}`, { method: 'POST', headers: route.headers, body });
          await response.arrayBuffer();
          assert.ok(response.status < 500, `${route.path} answered ${response.status} to ${String(body).slice(0, 60)}`);
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        }
        const routeStored = (await storedEntries(vigil.app.get<Db>(DATABASE))).length - routeBefore;
        if (routeStored > 0) storedBy[route.path] = routeStored;
      }
      // HEC's raw endpoint takes any line of text as an event and Datadog's logs endpoint any JSON
      // value as a log, by their protocols; every other route stored nothing of these bodies.
      assert.deepEqual(Object.keys(storedBy).sort(), ['/api/v2/logs', '/services/collector/raw']);
      assert.equal(storedBy['/api/v2/logs'], 2);
      assert.ok((await storedEntries(vigil.app.get<Db>(DATABASE))).length > before);
      assert.ok((statuses.get(400) ?? 0) > ROUTES.length, `400s: ${JSON.stringify([...statuses])}`);
    });
  });
}
