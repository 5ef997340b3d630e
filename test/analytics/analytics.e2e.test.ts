import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { RetentionJob } from '../../src/ingest-log/retention.job.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { deliveryOrder, generateTraffic, type GeneratedEvent } from './analytics-generator.js';
import {
  referenceActiveNow,
  referenceActiveUsers,
  referenceFeatures,
  referenceFunnel,
  referencePages,
  referenceRetention,
  referenceSessions,
  referenceSessionsReport,
  referenceUser,
  type Range,
  type RefEvent,
} from './analytics-reference.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 4, 12, 0, 0);
const USERS = 36;
const BATCH = 97;

/** Events close to NOW, for vigil_active_users. */
const RECENT: GeneratedEvent[] = [
  { userId: 'recent-a', type: 'click', timestamp: NOW - 2 * 60_000 },
  { userId: 'recent-b', type: 'click', timestamp: NOW - 40 * 60_000 },
  { userId: 'recent-c', type: 'page_view', page: '/', timestamp: NOW - 5 * 3_600_000 },
  { userId: 'recent-c', type: 'search', timestamp: NOW - 4 * 60_000 },
];

const FUNNELS: Array<{ steps: string[]; window: string; windowMs: number; mode: 'ordered' | 'any'; range: Range }> = [
  { steps: ['signup', 'add_to_cart', 'checkout', 'purchase'], window: '1d', windowMs: DAY, mode: 'ordered', range: {} },
  { steps: ['signup', 'add_to_cart', 'checkout', 'purchase'], window: '30m', windowMs: 30 * 60_000, mode: 'ordered', range: {} },
  { steps: ['page_view', 'page_view', 'purchase'], window: '2h', windowMs: 2 * 3_600_000, mode: 'ordered', range: {} },
  { steps: ['search', 'click', 'search'], window: '14d', windowMs: 14 * DAY, mode: 'ordered', range: { from: NOW - 30 * DAY, to: NOW - 10 * DAY } },
  { steps: ['signup', 'add_to_cart', 'checkout', 'purchase'], window: '14d', windowMs: 14 * DAY, mode: 'any', range: { from: NOW - 20 * DAY } },
];

function query(range: Range, extra: Record<string, string | string[]> = {}): string {
  const parameters = new URLSearchParams();
  if (range.from !== undefined) parameters.append('from', new Date(range.from).toISOString());
  if (range.to !== undefined) parameters.append('to', String(range.to));
  for (const [name, value] of Object.entries(extra)) for (const item of [value].flat()) parameters.append(name, item);
  const text = parameters.toString();
  return text ? `?${text}` : '';
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`analytics on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    let events: RefEvent[];
    const clock = new ManualClock(NOW);
    const keys = { ingest: 'ingest-key-0123456789', read: 'read-key-0123456789', admin: 'admin-key-0123456789' };
    const read = { authorization: `Bearer ${keys.read}` };
    const admin = { authorization: `Bearer ${keys.admin}` };
    const get = async (path: string) => {
      const response = await getJson(`${vigil.url}${path}`, read);
      assert.equal(response.status, 200, `${path}: ${response.text}`);
      return response.body as unknown;
    };
    const ranges: Range[] = [{}, { from: NOW - 25 * DAY, to: NOW - 7 * DAY + 3_600_000 }, { from: NOW - 9 * DAY - 1234 }, { to: NOW - 30 * DAY }];

    before(async () => {
      database = await make();
      vigil = await startApp(
        { DATABASE_URL: database.url, VIGIL_INGEST_KEYS: keys.ingest, VIGIL_READ_KEYS: keys.read, VIGIL_ADMIN_KEYS: keys.admin, VIGIL_ANALYTICS_RETENTION_DAYS: '400' },
        { clock },
      );
      const generated = generateTraffic({ seed: 7, users: USERS, start: NOW - 45 * DAY, end: NOW - 3_600_000 });
      const ordered = [...deliveryOrder(generated, 11), ...RECENT];
      events = ordered.map((event, sequence) => ({ ...event, sequence }));
      for (let start = 0, batch = 0; start < ordered.length; start += BATCH, batch++) {
        const response = await postJson(`${vigil.url}/ingest/analytics`, { events: ordered.slice(start, start + BATCH) }, { authorization: `Bearer ${keys.ingest}` });
        assert.equal(response.status, 202, response.text);
        assert.equal(response.body.rejected, 0, response.text);
        // Mostly one consumer batch per request; every third time two requests share one.
        if (batch % 3 !== 1) await vigil.settle();
      }
      await vigil.settle();
    });
    after(async () => {
      await vigil?.close();
      await database?.drop();
    });

    test('the generated traffic exercises what it should', () => {
      const sessions = referenceSessions(events);
      assert.ok(events.length > 800, `${events.length} events`);
      assert.ok(sessions.some((session) => session.key.startsWith('given:')) && sessions.some((session) => session.key.startsWith('inferred:')));
      const late = events.filter((event, index) => index > 0 && events.slice(0, index).some((earlier) => earlier.userId === event.userId && earlier.timestamp > event.timestamp));
      assert.ok(late.length > 50, `${late.length} late events`);
    });

    test('GET /analytics/user/:userId agrees with the reference for every user; unknown users have no data', async () => {
      for (const userId of [...new Set(events.map((event) => event.userId))]) {
        assert.deepEqual(await get(`/analytics/user/${userId}`), referenceUser(events, userId), userId);
      }
      assert.deepEqual(await get('/analytics/user/nobody'), { user_id: 'nobody', no_data: true });
    });

    test('features and pages agree with the reference over ranges and limits', async () => {
      for (const range of ranges) {
        assert.deepEqual(await get(`/analytics/features${query(range)}`), referenceFeatures(events, range), JSON.stringify(range));
        assert.deepEqual(await get(`/analytics/pages${query(range)}`), referencePages(events, range), JSON.stringify(range));
      }
      assert.deepEqual(await get(`/analytics/features${query({}, { limit: '3' })}`), referenceFeatures(events, {}, 3));
      assert.deepEqual(await get(`/analytics/pages${query({}, { limit: '2' })}`), referencePages(events, {}, 2));
    });

    test('funnels (ordered and any, windows, repeated steps, ranges) agree with the reference', async () => {
      for (const funnel of FUNNELS) {
        const path = `/analytics/funnel${query(funnel.range, { steps: funnel.steps, window: funnel.window, mode: funnel.mode })}`;
        const expected = referenceFunnel(events, funnel.steps, funnel.mode, funnel.windowMs, funnel.range);
        assert.ok(expected.steps[1]!.users! > 0, `funnel ${path} is not trivial`);
        assert.deepEqual(await get(path), expected, path);
      }
    });

    test('sessions, active users and retention agree with the reference', async () => {
      const sessions = referenceSessions(events);
      for (const range of ranges) {
        assert.deepEqual(await get(`/analytics/sessions${query(range)}`), referenceSessionsReport(sessions, range), JSON.stringify(range));
        assert.deepEqual(await get(`/analytics/active-users${query(range)}`), referenceActiveUsers(events, range), JSON.stringify(range));
        for (const interval of ['day', 'week'] as const) {
          assert.deepEqual(await get(`/analytics/retention${query(range, { interval })}`), referenceRetention(events, range, interval), `${interval} ${JSON.stringify(range)}`);
        }
      }
    });

    test('vigil_active_users counts users active in the last 5m, 1h, 1d; stored events are counted', async () => {
      const text = await (await fetch(`${vigil.url}/metrics`)).text();
      for (const [window, length] of [['5m', 5 * 60_000], ['1h', 3_600_000], ['1d', DAY]] as const) {
        const line = text.split('\n').find((candidate) => candidate.startsWith(`vigil_active_users{window="${window}"}`));
        assert.equal(Number(line?.split(' ')[1]), referenceActiveNow(events, NOW, length), window);
      }
      assert.equal(referenceActiveNow(events, NOW, 5 * 60_000), 2);
      const stored = text.split('\n').find((candidate) => candidate.startsWith('vigil_analytics_events_ingested_total'));
      assert.equal(Number(stored?.split(' ')[1]), events.length);
    });

    test('no IP address or user agent is stored', async () => {
      const db = vigil.app.get<Db>(DATABASE);
      const rows = await db.selectFrom('analytics_events').select('properties').where('properties', 'is not', null).execute();
      assert.ok(rows.length > 20);
      for (const row of rows) {
        assert.doesNotMatch(row.properties!, /203\.0\.113|198\.51\.100|Mozilla|"ip"|User-Agent|clientIp/);
        assert.match(row.properties!, /"plan"/);
      }
    });

    test('bad parameters answer 400 naming the parameter; scopes are enforced', async () => {
      const cases: Array<[string, RegExp]> = [
        ['/analytics/features?from=yesterday', /from/],
        ['/analytics/pages?to=2026-13-45T00:00:00Z', /to/],
        ['/analytics/features?limit=0', /limit/],
        ['/analytics/funnel?steps=a', /steps/],
        ['/analytics/funnel?steps=a&steps=b&window=10x', /window/],
        ['/analytics/funnel?steps=a&steps=b&mode=sideways', /mode/],
        ['/analytics/retention?interval=month', /interval/],
        ['/analytics/sessions?from=2000&to=1000', /from/],
      ];
      for (const [path, message] of cases) {
        const response = await getJson(`${vigil.url}${path}`, read);
        assert.equal(response.status, 400, path);
        assert.match(String(response.body.message), message, path);
      }
      assert.equal((await getJson(`${vigil.url}/analytics/features`)).status, 401);
      assert.equal((await getJson(`${vigil.url}/analytics/features`, { authorization: `Bearer ${keys.ingest}` })).status, 403);
      assert.equal((await fetch(`${vigil.url}/analytics/user/user-1`, { method: 'DELETE', headers: read })).status, 403);
    });

    test('DELETE /analytics/user/:userId erases every stored trace in one go; reports then leave the user out', async () => {
      const victim = 'user-3';
      assert.ok(events.some((event) => event.userId === victim));
      const db = vigil.app.get<Db>(DATABASE);
      const countRows = async (table: 'analytics_events' | 'analytics_sessions' | 'analytics_user_days' | 'analytics_users' | 'ingest_log') => {
        const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', victim).executeTakeFirst();
        return Number(row?.n ?? 0);
      };
      assert.ok((await countRows('analytics_events')) > 0 && (await countRows('ingest_log')) > 0);
      const response = await fetch(`${vigil.url}/analytics/user/${victim}`, { method: 'DELETE', headers: admin });
      assert.equal(response.status, 204);
      for (const table of ['analytics_events', 'analytics_sessions', 'analytics_user_days', 'analytics_users', 'ingest_log'] as const) {
        assert.equal(await countRows(table), 0, table);
      }
      assert.deepEqual(await get(`/analytics/user/${victim}`), { user_id: victim, no_data: true });
      await vigil.settle();
      assert.equal(await countRows('analytics_events'), 0, 'the consumer brought nothing back');
      events = events.filter((event) => event.userId !== victim);
      assert.deepEqual(await get('/analytics/features'), referenceFeatures(events, {}));
      assert.deepEqual(await get('/analytics/sessions'), referenceSessionsReport(referenceSessions(events), {}));
      assert.deepEqual(await get('/analytics/retention'), referenceRetention(events, {}, 'week'));
      assert.doesNotMatch(vigil.logs.text, new RegExp(`"${victim}"`));
    });

    test('retention by age removes old events and keeps every report exact over what remains', async () => {
      const sessionsBefore = referenceSessions(events);
      // Retention is 400 days: moving 380 days on puts the cutoff 20 days before NOW.
      clock.advance(380 * DAY);
      const cutoff = NOW - 20 * DAY;
      await vigil.app.get(RetentionJob).run();
      events = events.filter((event) => event.timestamp >= cutoff);
      const db = vigil.app.get<Db>(DATABASE);
      const oldest = await db.selectFrom('analytics_events').select((eb) => eb.fn.min('occurred_at').as('t')).executeTakeFirst();
      assert.ok(Number(oldest?.t) >= cutoff);
      const stored = await db.selectFrom('analytics_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      assert.equal(Number(stored?.n), events.length);
      // Sessions keep their partition; those straddling the cutoff keep only their remaining events.
      const trimmed = sessionsBefore
        .map((session) => ({ ...session, events: session.events.filter((event) => event.timestamp >= cutoff) }))
        .filter((session) => session.events.length > 0);
      assert.deepEqual(await get('/analytics/sessions'), referenceSessionsReport(trimmed, {}));
      assert.deepEqual(await get('/analytics/features'), referenceFeatures(events, {}));
      assert.deepEqual(await get('/analytics/active-users'), referenceActiveUsers(events, {}));
      assert.deepEqual(await get('/analytics/retention?interval=day'), referenceRetention(events, {}, 'day'));
    });
  });
}
