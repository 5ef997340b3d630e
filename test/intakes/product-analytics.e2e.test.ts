import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Analytics } from '@segment/analytics-node';
import { PostHog } from 'posthog-node';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, postJson, startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';

const INGEST_KEY = 'pa-ingest-key-0123456789';
const READ_KEY = 'pa-read-key-0123456789';
const ADMIN_KEY = 'pa-admin-key-0123456789';

for (const { name, make } of BOTH_DATABASES) {
  describe(`Segment and PostHog intakes on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const read = { authorization: `Bearer ${READ_KEY}` };
    const report = async (path: string) => {
      await vigil.settle();
      const answer = await getJson(`${vigil.url}${path}`, read);
      assert.equal(answer.status, 200, answer.text);
      return answer.body;
    };

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_READ_KEYS: READ_KEY, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_CORS_ORIGINS: 'https://shop.example' });
    });
    after(async () => {
      await vigil.close();
      await database.drop();
    });

    test('@segment/analytics-node, unchanged: track, page, screen, identify and alias; an anonymous visitor becomes the person', async () => {
      const errors: unknown[] = [];
      const analytics = new Analytics({ writeKey: INGEST_KEY, host: vigil.url, maxEventsInBatch: 50, flushInterval: 50 });
      analytics.on('error', (error) => errors.push(error));
      const start = Date.UTC(2026, 11, 1, 9);
      const at = (minutes: number) => new Date(start + minutes * 60_000);
      // seg-anon browses anonymously, signs up as seg-user, then buys.
      analytics.page({ anonymousId: 'seg-anon', name: 'Pricing', properties: { path: '/pricing', url: 'https://shop.example/pricing' }, timestamp: at(0) });
      analytics.track({ anonymousId: 'seg-anon', event: 'Signed Up', properties: { plan: 'pro' }, timestamp: at(1) });
      analytics.identify({ userId: 'seg-user', anonymousId: 'seg-anon', traits: { plan: 'pro' }, timestamp: at(2) });
      analytics.track({ userId: 'seg-user', event: 'Purchased', properties: { total: 42 }, timestamp: at(3) });
      analytics.screen({ userId: 'seg-user', name: 'Receipt', timestamp: at(4) });
      // An earlier id of the same person, joined by alias.
      analytics.track({ anonymousId: 'seg-old-device', event: 'Signed Up', timestamp: at(5) });
      analytics.alias({ userId: 'seg-user', previousId: 'seg-old-device', timestamp: at(6) });
      for (let index = 0; index < 7; index++) analytics.track({ userId: `seg-other-${index % 2}`, event: 'Searched', timestamp: at(10 + index) });
      await analytics.closeAndFlush();
      assert.deepEqual(errors, []);

      const features = (await report('/analytics/features?limit=50')) as { top_features: Array<{ feature: string; usage_count: number; unique_users: number }> };
      const usage = Object.fromEntries(features.top_features.map((feature) => [feature.feature, [feature.usage_count, feature.unique_users]]));
      assert.deepEqual(usage['Searched'], [7, 2]);
      assert.deepEqual(usage['Purchased'], [1, 1]);
      // Two Signed Up events, both the one person's once identify and alias joined their ids.
      assert.deepEqual(usage['Signed Up'], [2, 1]);
      const pages = (await report('/analytics/pages')) as { top_pages: Array<{ page: string; views: number }> };
      assert.deepEqual(pages.top_pages.filter((page) => page.page === '/pricing' || page.page === 'Receipt').map((page) => [page.page, page.views]).sort(), [['/pricing', 1], ['Receipt', 1]]);
      const funnel = (await report('/analytics/funnel?steps=page_view&steps=Signed%20Up&steps=Purchased')) as { users_per_step: Record<string, number> };
      assert.deepEqual(funnel.users_per_step, { page_view: 1, 'Signed Up': 1, Purchased: 1 });
      const person = (await report('/analytics/user/seg-user')) as { total_actions: number; action_breakdown: Record<string, number> };
      assert.deepEqual(person.action_breakdown, { page_view: 2, 'Signed Up': 2, identify: 1, Purchased: 1, alias: 1 });
      assert.deepEqual(await report('/analytics/user/seg-anon'), { user_id: 'seg-anon', no_data: true });
    });

    test('posthog-node, unchanged: capture, $pageview with sessions, $identify; gzip bodies', async () => {
      const client = new PostHog(INGEST_KEY, { host: vigil.url, flushAt: 100, flushInterval: 0 });
      const errors: unknown[] = [];
      client.on('error', (error) => errors.push(error));
      client.capture({ distinctId: 'ph-anon', event: '$pageview', properties: { $current_url: 'https://app.example/docs?x=1', $session_id: 'ph-s1' } });
      client.capture({ distinctId: 'ph-anon', event: 'Opened Editor', properties: { $session_id: 'ph-s1' } });
      client.identify({ distinctId: 'ph-user', properties: { $anon_distinct_id: 'ph-anon', email: 'person@example.com' } });
      for (let index = 0; index < 4; index++) client.capture({ distinctId: 'ph-user', event: 'Saved', properties: { $session_id: 'ph-s1' } });
      await client.shutdown();
      assert.deepEqual(errors, []);
      const person = (await report('/analytics/user/ph-user')) as { action_breakdown: Record<string, number>; total_sessions: number };
      assert.deepEqual(person.action_breakdown, { page_view: 1, 'Opened Editor': 1, identify: 1, Saved: 4 });
      // ph-s1, and the session Vigil infers for $identify, which posthog-node sends without a $session_id.
      assert.equal(person.total_sessions, 2);
      const pages = (await report('/analytics/pages')) as { top_pages: Array<{ page: string; views: number }> };
      assert.deepEqual(pages.top_pages.find((page) => page.page === '/docs')?.views, 1);

      // posthog-js's form: gzip with ?compression=gzip-js, sent as text/plain.
      const body = gzipSync(JSON.stringify({ api_key: INGEST_KEY, batch: [{ event: 'Exported', distinct_id: 'ph-user', properties: {} }] }));
      const gz = await fetch(`${vigil.url}/e/?compression=gzip-js`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
      assert.equal(gz.status, 200);
      assert.deepEqual(await gz.json(), { status: 1 });
      assert.equal(((await report('/analytics/user/ph-user')) as { action_breakdown: Record<string, number> }).action_breakdown['Exported'], 1);
    });

    test('wrong credentials get each protocol\'s JSON refusal; hostile bodies get 4xx; nothing stored', async () => {
      const before = (await report('/analytics/features')) as { total_actions: number };
      const segmentWrong = await fetch(`${vigil.url}/v1/track`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('wrong-key:').toString('base64')}`, 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'x', event: 'never' }),
      });
      assert.equal(segmentWrong.status, 401);
      assert.deepEqual(await segmentWrong.json(), { success: false, message: 'Unknown API key' });
      const segmentMissing = await postJson(`${vigil.url}/v1/track`, { userId: 'x', event: 'never' });
      assert.equal(segmentMissing.status, 401);
      const segmentReadKey = await postJson(`${vigil.url}/v1/track`, { writeKey: READ_KEY, userId: 'x', event: 'never' });
      assert.equal(segmentReadKey.status, 403);
      const postHogWrong = await postJson(`${vigil.url}/batch/`, { api_key: 'wrong', batch: [{ event: 'never', distinct_id: 'x' }] });
      assert.equal(postHogWrong.status, 401);
      assert.equal(postHogWrong.body['code'], 'invalid_api_key');
      const notJson = await fetch(`${vigil.url}/capture/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"api_key":' });
      assert.equal(notJson.status, 400);
      const badGzip = await fetch(`${vigil.url}/e/?compression=gzip-js`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.from([0x1f, 0x8b, 1, 2, 3]) });
      assert.equal(badGzip.status, 400);
      const noUser = await postJson(`${vigil.url}/v1/batch`, { writeKey: INGEST_KEY, batch: [{ type: 'track', event: 'never' }] });
      assert.equal(noUser.status, 400);
      assert.equal(noUser.body['success'], false);
      const after = (await report('/analytics/features')) as { total_actions: number };
      assert.equal(after.total_actions, before.total_actions);
    });

    test('erasing the person erases the ids joined to them, raw log entries included', async () => {
      const rawOf = async (userId: string) => (await storedEntries(vigil.app.get<Db>(DATABASE), ['analytics'])).filter((entry) => entry.userId === userId).length;
      assert.equal(await rawOf('seg-anon'), 2);
      assert.equal(await rawOf('seg-old-device'), 1);
      const erased = await fetch(`${vigil.url}/analytics/user/seg-user`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      assert.equal(erased.status, 204);
      assert.deepEqual([await rawOf('seg-user'), await rawOf('seg-anon'), await rawOf('seg-old-device')], [0, 0, 0]);
      assert.deepEqual(await report('/analytics/user/seg-user'), { user_id: 'seg-user', no_data: true });
      const features = (await report('/analytics/features?limit=50')) as { top_features: Array<{ feature: string }> };
      assert.equal(features.top_features.some((feature) => feature.feature === 'Signed Up' || feature.feature === 'Purchased'), false);
    });

    test('CORS for browser SDKs: the configured origin on the SDK routes only', async () => {
      const preflight = (path: string, origin: string) =>
        fetch(`${vigil.url}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
      const allowed = await preflight('/e/', 'https://shop.example');
      assert.equal(allowed.status, 204);
      assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://shop.example');
      assert.match(String(allowed.headers.get('access-control-allow-methods')), /POST/);
      assert.equal((await preflight('/v1/batch', 'https://shop.example')).headers.get('access-control-allow-origin'), 'https://shop.example');
      assert.equal((await preflight('/e/', 'https://elsewhere.example')).headers.get('access-control-allow-origin'), null);
      assert.equal((await preflight('/ingest/metrics', 'https://shop.example')).headers.get('access-control-allow-origin'), null);
      const posted = await fetch(`${vigil.url}/e/`, {
        method: 'POST',
        headers: { origin: 'https://shop.example', 'content-type': 'application/json' },
        body: JSON.stringify({ api_key: INGEST_KEY, event: 'From Browser', distinct_id: 'browser-user', properties: {} }),
      });
      assert.equal(posted.status, 200);
      assert.equal(posted.headers.get('access-control-allow-origin'), 'https://shop.example');
    });
  });
}
