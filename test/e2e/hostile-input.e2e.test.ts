import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase } from '../support/databases.js';
import { storedEntries } from '../support/stored-entries.js';

/**
 * The careless and hostile data of issue 19, each checked on the read side it would have
 * corrupted: a refusal names the problem, and nothing refused is stored or counted anywhere.
 * (Connection-level attacks: http-protections and hostile-memory; random bodies: ingest-fuzz.)
 */
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const DAY = 86_400_000;
const KEY = 'admin-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };

describe('hostile and careless input', () => {
  let vigil: RunningApp;
  const clock = new ManualClock(NOW);
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_ADMIN_KEYS: KEY, VIGIL_ANALYTICS_RETENTION_DAYS: '30', LOG_LEVEL: 'error' }, { clock });
  });
  after(() => vigil.close());

  const ingest = async (kind: string, field: string, items: unknown[]) => {
    const response = await postJson(`${vigil.url}/ingest/${kind}`, { [field]: items }, auth);
    return { ...response, messages: ((response.body.errors ?? []) as Array<{ message: string }>).map((error) => error.message) };
  };

  test('epoch seconds, 0, 1 and 1.5 as a timing timestamp: 400, "looks like epoch seconds" where it does; the service stays unknown', async () => {
    const seconds = await ingest('requests', 'requests', [{ service: 'careless', durationMs: 12, timestamp: Math.floor(NOW / 1000) }]);
    assert.equal(seconds.status, 400);
    assert.match(String(seconds.body.message), /requests\[0\]\.timestamp looks like epoch seconds: must be epoch milliseconds .* \(multiply by 1000\)/);
    for (const timestamp of [0, 1, 1.5]) {
      const tiny = await ingest('requests', 'requests', [{ service: 'careless', durationMs: 12, timestamp }]);
      assert.equal(tiny.status, 400, `timestamp ${timestamp}`);
      assert.match(String(tiny.body.message), /must be epoch milliseconds on or after 2000-01-01 \(946684800000\)/);
    }
    const micro = await ingest('requests', 'requests', [{ service: 'careless', durationMs: 12, timestamp: NOW * 1000 }]);
    assert.match(String(micro.body.message), /looks like epoch microseconds or nanoseconds/);
    await vigil.settle();
    assert.equal((await getJson(`${vigil.url}/sla/status/careless`, auth)).status, 404);
  });

  test('an analytics event older than the analytics retention: 400 naming it, nothing for the retention pass to delete', async () => {
    const old = await ingest('analytics', 'events', [
      { type: 'page_view', page: '/home', userId: 'old-user', timestamp: NOW - 31 * DAY },
      { type: 'page_view', page: '/home', userId: 'recent-user', timestamp: NOW - 29 * DAY },
    ]);
    assert.equal(old.status, 202, old.text);
    assert.deepEqual([old.body.accepted, old.body.rejected], [1, 1]);
    assert.deepEqual(old.messages, [
      'events[0].timestamp is older than the analytics retention of 30 days (VIGIL_ANALYTICS_RETENTION_DAYS); such an item would be deleted at once',
    ]);
    await vigil.settle();
    assert.deepEqual((await getJson(`${vigil.url}/analytics/user/old-user`, auth)).body, { user_id: 'old-user', no_data: true });
    assert.equal((await getJson(`${vigil.url}/analytics/user/recent-user`, auth)).body.total_actions, 1);
  });

  test('30 February, hour 24 and second 60 are not dates; 1e308 ms is not a duration; 1e19 is not a metric value', async () => {
    for (const timestamp of ['2026-02-30T00:00:00Z', '2026-03-01T24:00:00Z', '2026-03-01T10:00:60Z']) {
      const response = await ingest('requests', 'requests', [{ service: 'calendar', durationMs: 5, timestamp }]);
      assert.equal(response.status, 400, timestamp);
      assert.match(String(response.body.message), /a real calendar date and time/);
    }
    const huge = await ingest('requests', 'requests', [{ service: 'calendar', durationMs: 1e308 }]);
    assert.equal(huge.status, 400);
    assert.match(String(huge.body.message), /requests\[0\]\.durationMs must be at most 86400000/);
    const value = await ingest('metrics', 'metrics', [{ name: 'huge.value', value: 1e19 }]);
    assert.equal(value.status, 400);
    assert.match(String(value.body.message), /metrics\[0\]\.value must be at most 1000000000000000000/);
    await vigil.settle();
    assert.equal((await getJson(`${vigil.url}/sla/status/calendar`, auth)).status, 404);
  });

  test('a lone surrogate in a user id is refused; one in a message becomes U+FFFD and is kept', async () => {
    // JSON.stringify writes a lone surrogate as the escape \ud800: exactly what a careless client sends.
    const user = await ingest('analytics', 'events', [{ type: 'click', userId: 'user-\ud800' }]);
    assert.equal(user.status, 400);
    assert.match(String(user.body.message), /events\[0\]\.userId must be well-formed Unicode \(no lone UTF-16 surrogates\)/);
    const log = await ingest('logs', 'logs', [{ message: 'cut \ud800 here', level: 'info', service: 'surrogates' }]);
    assert.equal(log.status, 202);
    const stored = await storedEntries(vigil.app.get<Db>(DATABASE), ['log']);
    assert.equal((JSON.parse(stored.at(-1)!.json) as { message: string }).message, 'cut \ufffd here');
  });

  test('ANSI escapes and CR/LF in a service name: refused at ingest and as an SLA target; the report has none', async () => {
    for (const service of ['\u001b[31mred', 'evil\r\nservice: api ✅', 'bell\u0007', 'c1\u009b']) {
      const response = await ingest('requests', 'requests', [{ service, durationMs: 5 }]);
      assert.equal(response.status, 400, JSON.stringify(service));
      assert.match(String(response.body.message), /requests\[0\]\.service must not contain control characters/);
      const target = await fetch(`${vigil.url}/sla/targets/${encodeURIComponent(service)}`, {
        method: 'PUT',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ p95Ms: 100, p99Ms: 200, availabilityPercent: 99, errorRatePercent: 1 }),
      });
      assert.equal(target.status, 400, JSON.stringify(service));
      assert.match(((await target.json()) as { message: string }).message, /service must not contain control characters/);
    }
    const named = await fetch(`${vigil.url}/sla/targets/api`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'API\u001b[2J', p95Ms: 100, p99Ms: 200, availabilityPercent: 99, errorRatePercent: 1 }),
    });
    assert.equal(named.status, 400);
    assert.match(((await named.json()) as { message: string }).message, /^name must not contain control characters/);
    const report = await fetch(`${vigil.url}/sla/report`, { headers: auth });
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    assert.deepEqual((await report.text()).match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g), null);
  });

  test('nothing refused above was stored: the log holds exactly the two accepted items', async () => {
    const stored = await storedEntries(vigil.app.get<Db>(DATABASE));
    const ingested = stored.filter((entry) => !(entry.kind === 'event' && (JSON.parse(entry.json) as { source?: string }).source === 'vigil'));
    assert.deepEqual(
      ingested.map((entry) => entry.kind),
      ['analytics', 'log'],
    );
  });
});
