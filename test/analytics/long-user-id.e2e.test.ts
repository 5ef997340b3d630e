/**
 * A user id of the longest length ingest accepts, every character of it percent-encoded in the
 * path, can be read and erased: the route limit must not answer 414 to an id Vigil stored.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase } from '../support/databases.js';

const keys = { ingest: 'ingest-key-0123456789', read: 'read-key-0123456789', admin: 'admin-key-0123456789' };
// 128 characters (the limit), each two bytes of UTF-8: 768 characters once percent-encoded.
const userId = 'ü'.repeat(128);

let vigil: RunningApp;
before(async () => {
  vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_INGEST_KEYS: keys.ingest, VIGIL_READ_KEYS: keys.read, VIGIL_ADMIN_KEYS: keys.admin });
});
after(() => vigil.close());

test('GET and DELETE /analytics/user/:userId work for a 128-character id sent percent-encoded', async () => {
  const accepted = await postJson(`${vigil.url}/ingest/analytics`, { events: [{ userId, type: 'click', timestamp: Date.now() - 1000 }] }, { authorization: `Bearer ${keys.ingest}` });
  assert.equal(accepted.status, 202);
  assert.equal(accepted.body.accepted, 1);
  await vigil.settle();
  const path = `${vigil.url}/analytics/user/${encodeURIComponent(userId)}`;
  const found = await getJson(path, { authorization: `Bearer ${keys.read}` });
  assert.equal(found.status, 200);
  assert.equal(found.body.user_id, userId);
  assert.equal(found.body.no_data, undefined);
  const erased = await fetch(path, { method: 'DELETE', headers: { authorization: `Bearer ${keys.admin}` } });
  assert.equal(erased.status, 204);
  assert.deepEqual((await getJson(path, { authorization: `Bearer ${keys.read}` })).body, { user_id: userId, no_data: true });
});
