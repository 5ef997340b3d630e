import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import type { IngestKind } from '../../src/ingest-log/ingest-log.items.js';
import { IngestHooks } from '../../src/ingest/ingest-hooks.js';
import { storedEntries } from '../support/stored-entries.js';

for (const { name, make } of BOTH_DATABASES) {
  describe(`ingest on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const ingestKey = 'ingest-key-0123456789';
    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: ingestKey, VIGIL_READ_KEYS: 'read-key-0123456789' });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });
    const auth = { authorization: `Bearer ${ingestKey}` };
    const storedCount = async (kind: string) => {
      return (await storedEntries(vigil.app.get<Db>(DATABASE), [kind as IngestKind])).length;
    };

    test('accepts valid items, rejects invalid ones with field paths, stores only the valid', async () => {
      const before = await storedCount('metric');
      const response = await postJson(
        `${vigil.url}/ingest/metrics`,
        { metrics: [{ name: 'api.response_time', value: 12.5, tags: { endpoint: '/users' } }, { name: 'x', value: 'NaN' }, { name: '9bad', value: 1 }] },
        auth,
      );
      assert.equal(response.status, 202);
      assert.deepEqual(response.body, {
        accepted: 1,
        rejected: 2,
        errors: [
          { index: 1, message: 'metrics[1].value must be a finite number' },
          { index: 2, message: 'metrics[2].name must be 1-200 characters of [A-Za-z0-9_.:-] starting with a letter' },
        ],
      });
      assert.equal((await storedCount('metric')) - before, 1);
    });

    test('a NUL character is refused where it would become a column or key, kept in free text; nothing else is held up', async () => {
      const analytics = await postJson(
        `${vigil.url}/ingest/analytics`,
        { events: [{ userId: 'a\u0000b', type: 'click' }, { userId: 'nul-neighbour', type: 'click', page: '/p\u0000' }, { userId: 'nul-neighbour', type: 'click' }] },
        auth,
      );
      assert.equal(analytics.status, 202);
      assert.deepEqual(analytics.body, {
        accepted: 1,
        rejected: 2,
        errors: [
          { index: 0, message: 'events[0].userId must not contain control characters (U+0000-U+001F, U+007F-U+009F)' },
          { index: 1, message: 'events[1].page must not contain control characters (U+0000-U+001F, U+007F-U+009F)' },
        ],
      });
      const requests = await postJson(`${vigil.url}/ingest/requests`, { requests: [{ service: 'x\u0000', durationMs: 1 }, { service: 'nul-api', durationMs: 1, operation: 'GET /' }] }, auth);
      assert.deepEqual([requests.body.accepted, requests.body.rejected], [1, 1]);
      const metrics = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'nul.tags', value: 1, tags: { host: 'h\u0000' } }] }, auth);
      assert.equal(metrics.status, 400);
      assert.match(String(metrics.body.message), /metrics\[0\]\.tags\.host must not contain control characters/);
      const logs = await postJson(`${vigil.url}/ingest/logs`, { logs: [{ message: 'binary \u0000 in a message', service: 'nul-api' }] }, auth);
      assert.deepEqual([logs.status, logs.body.accepted], [202, 1]);
      // The consumers that store users, pages and services as columns keep going.
      await vigil.settle();
      const read = { authorization: 'Bearer read-key-0123456789' };
      const user = await getJson(`${vigil.url}/analytics/user/nul-neighbour`, read);
      assert.deepEqual([user.status, user.body.user_id, user.body.no_data], [200, 'nul-neighbour', undefined]);
      const sla = await getJson(`${vigil.url}/sla/status/nul-api`, read);
      assert.deepEqual([sla.status, (sla.body.metrics as { requests: { total: number } }).requests.total], [200, 1]);
    });

    test('an analytics page too large for the store\'s index is refused; the longest that fits is stored', async () => {
      // 2000 CJK characters are 6000 bytes of UTF-8: Postgres could not index the event.
      const cjk = Array.from({ length: 2000 }, (_, index) => String.fromCodePoint(0x4e00 + ((index * 7919) % 20000))).join('');
      const longest = { userId: 'u'.repeat(128), type: 't'.repeat(100), page: `/${'p'.repeat(1999)}` };
      const response = await postJson(`${vigil.url}/ingest/analytics`, { events: [{ userId: 'page-user', type: 'page_view', page: cjk }, longest] }, auth);
      assert.equal(response.status, 202);
      assert.deepEqual(response.body.errors, [{ index: 0, message: 'events[0].page is too long: type, page and userId together must fit in 2600 bytes of UTF-8' }]);
      await vigil.settle();
      const user = await getJson(`${vigil.url}/analytics/user/${longest.userId}`, { authorization: 'Bearer read-key-0123456789' });
      assert.equal(user.body.total_actions, 1, 'the analytics consumer stored it');
    });

    test('an observer of committed items that throws does not turn the 202 into an error', async () => {
      const before = await storedCount('event');
      vigil.app.get(IngestHooks).observeCommitted('event', () => {
        throw new Error('observer bug');
      });
      const response = await postJson(`${vigil.url}/ingest/events`, { events: [{ title: 'stored anyway' }] }, auth);
      assert.equal(response.status, 202);
      assert.equal((await storedCount('event')) - before, 1);
    });

    test('401 without a key, 403 with a key of the wrong scope', async () => {
      const body = { metrics: [{ name: 'a', value: 1 }] };
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body)).status, 401);
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body, { authorization: 'Bearer nope' })).status, 401);
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': 'read-key-0123456789' })).status, 403);
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': ingestKey })).status, 202);
    });

    test('400 when every item is invalid or the shape is wrong; 415 for non-JSON; gzip accepted', async () => {
      const allBad = await postJson(`${vigil.url}/ingest/requests`, { requests: [{ service: 'api' }] }, auth);
      assert.equal(allBad.status, 400);
      assert.match(String(allBad.body.message), /requests\[0\]\.durationMs is required/);
      assert.equal((await postJson(`${vigil.url}/ingest/logs`, { log: [] }, auth)).status, 400);
      const text = await fetch(`${vigil.url}/ingest/logs`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'hello' });
      assert.equal(text.status, 415);
      const gz = await fetch(`${vigil.url}/ingest/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: gzipSync(JSON.stringify({ events: [{ title: 'Deploy', text: 'v2' }] })),
      });
      assert.equal(gz.status, 202);
      assert.deepEqual(await gz.json(), { accepted: 1, rejected: 0, errors: [] });
    });
  });
}
