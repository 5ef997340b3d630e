import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DDSketch } from '@datadog/sketches-js';
import { ManualClock } from '../../src/common/clock.js';
import type { SlaStatusBody } from '../../src/sla/sla-status.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, startApp, type RunningApp } from '../support/app.js';
import { ADMIN_KEY, DAY, HOUR, MINUTE, NOW, READ_KEY, admin, read, round3, sendRequests, slaStatus, type Sent } from './sla-http.js';
import { seededRandom } from './generators.js';

const WINDOWS = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY } as const;

async function send(vigil: RunningApp, records: Sent[]): Promise<void> {
  await sendRequests(vigil, records);
  await vigil.settle();
}

async function putTarget(vigil: RunningApp, service: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${vigil.url}/sla/targets/${service}`, { method: 'PUT', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Records of one service at random times in [from, to), each failing with the given chance. */
function records(service: string, count: number, from: number, to: number, failureRate: number, seed: number): Sent[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    service,
    // Three decimals, plus a remainder no sketch bin represents: exact answers are told apart.
    durationMs: Math.round((20 + random() * 480) * 1000) / 1000 + 0.0007,
    success: random() >= failureRate,
    timestamp: Math.floor(from + random() * (to - from)),
  }));
}

const sortedDurations = (sent: Sent[]) => sent.map((record) => record.durationMs).sort((left, right) => left - right);

for (const { name, make } of BOTH_DATABASES) {
  describe(`SLA semantics on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(NOW);

    before(async () => {
      database = await make();
      vigil = await startApp({ DATABASE_URL: database.url, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_READ_KEYS: READ_KEY }, { clock });
    });
    after(async () => {
      await vigil?.close();
      await database?.drop();
    });

    test('one request of 123.4 ms: p95 = p99 = 123.4 in every window; without a target the status is no_target, with no sla_met', async () => {
      await send(vigil, [{ service: 'single', durationMs: 123.4, success: true, timestamp: NOW - 5 * MINUTE }]);
      for (const window of Object.keys(WINDOWS)) {
        const single = await slaStatus(vigil, 'single', window);
        assert.deepEqual(
          [single.metrics.latency.p95_ms, single.metrics.latency.p99_ms, single.metrics.latency.relative_error_bound],
          [123.4, 123.4, 0],
          window,
        );
        assert.equal(single.status, 'no_target', window);
        assert.equal(single.target, null, window);
        assert.equal('sla_met' in single, false, window);
        assert.deepEqual([single.error_budget, single.burn_rate], [null, null], window);
      }
      const all = await getJson(`${vigil.url}/sla/status`, read);
      assert.equal((all.body['single'] as SlaStatusBody).status, 'no_target');
      assert.equal('sla_met' in (all.body['single'] as SlaStatusBody), false);
      // A service with a target keeps sla_met, also without data.
      const database_ = await slaStatus(vigil, 'database');
      assert.deepEqual([database_.status, database_.sla_met], ['no_data', false]);
      const report = await (await fetch(`${vigil.url}/sla/report`, { headers: read })).text();
      const lines = report.split('\n');
      const at = lines.indexOf('➖ single (single) - no target, window 30d');
      assert.ok(at >= 0, report);
      assert.equal(lines[at + 1], '   P95: 123.40ms');
    });

    test('up to 100 requests in a window, over many minute, hour and day rows: exact; the 101st makes it an estimate within 1 %', async () => {
      const first = records('few', 60, NOW - 3 * DAY, NOW - MINUTE, 0, 21);
      // Same minutes as some of the first batch: their stored rows merge with new values.
      const second = records('few', 40, NOW - 3 * DAY, NOW - MINUTE, 0, 22).map((record, index) => ({ ...record, timestamp: first[index]!.timestamp + 1 }));
      await send(vigil, first);
      await send(vigil, second);
      const all = [...first, ...second];
      for (const window of ['7d', '24h', '1h', '24h', '7d'] as const) {
        const inWindow = all.filter((record) => record.timestamp >= NOW - WINDOWS[window]);
        const sorted = sortedDurations(inWindow);
        const measured = await slaStatus(vigil, 'few', window);
        assert.equal(measured.metrics.requests.total, inWindow.length, window);
        const expected = sorted.length === 0 ? [null, null, null] : [sorted[Math.floor(0.95 * (sorted.length - 1))], sorted[Math.floor(0.99 * (sorted.length - 1))], 0];
        assert.deepEqual([measured.metrics.latency.p95_ms, measured.metrics.latency.p99_ms, measured.metrics.latency.relative_error_bound], expected, window);
      }
      const extra = { service: 'few', durationMs: 77.7777, success: true, timestamp: NOW - 2 * MINUTE };
      await send(vigil, [extra]);
      const reference = new DDSketch({ relativeAccuracy: 0.01 });
      for (const record of [...all, extra]) reference.accept(record.durationMs);
      const estimated = await slaStatus(vigil, 'few', '7d');
      assert.equal(estimated.metrics.requests.total, 101);
      assert.deepEqual(
        [estimated.metrics.latency.p95_ms, estimated.metrics.latency.p99_ms, estimated.metrics.latency.relative_error_bound],
        [Number(reference.getValueAtQuantile(0.95).toPrecision(6)), Number(reference.getValueAtQuantile(0.99).toPrecision(6)), 0.01],
      );
      const sorted = sortedDurations([...all, extra]);
      assert.ok(Math.abs(estimated.metrics.latency.p95_ms! - sorted[95]!) / sorted[95]! <= 0.01);
    });

    test('?window= makes the error budget follow it: its window and its numbers are those of the window asked for', async () => {
      assert.equal((await putTarget(vigil, 'budgeted', { name: 'Budgeted', p95Ms: 1000, p99Ms: 2000, availabilityPercent: 99, errorRatePercent: 5, window: '30d' })).status, 200);
      // Away from every window's edge, so which window holds a record does not depend on minute rounding.
      const sent = [
        ...records('budgeted', 300, NOW - 20 * DAY, NOW - 8 * DAY, 0.04, 31),
        ...records('budgeted', 200, NOW - 6 * DAY, NOW - 2 * DAY, 0.02, 32),
        ...records('budgeted', 150, NOW - 23 * HOUR, NOW - 2 * MINUTE, 0.01, 33),
      ];
      await send(vigil, sent);
      for (const window of [undefined, '30d', '7d', '24h', '1h'] as const) {
        const inWindow = sent.filter((record) => record.timestamp >= NOW - WINDOWS[window ?? '30d']);
        const failed = inWindow.filter((record) => !record.success).length;
        const allowed = 0.01 * inWindow.length;
        const measured = await slaStatus(vigil, 'budgeted', window);
        assert.equal(measured.window, window ?? '30d');
        assert.deepEqual(
          measured.error_budget,
          {
            window: window ?? '30d',
            total_requests: inWindow.length,
            allowed_failures: round3(allowed),
            consumed_failures: failed,
            consumed_percent: round3((failed / allowed) * 100),
            remaining_failures: round3(allowed - failed),
            remaining_percent: round3(100 - (failed / allowed) * 100),
          },
          window,
        );
        assert.deepEqual(measured.metrics.requests, { total: inWindow.length, successful: inWindow.length - failed, failed }, window);
      }
      const report = await (await fetch(`${vigil.url}/sla/report?window=24h`, { headers: read })).text();
      const recent = sent.filter((record) => record.timestamp >= NOW - DAY);
      assert.match(report, new RegExp(`of ${round3(0.01 * recent.length)} allowed failures over 24h \\(${recent.filter((record) => !record.success).length} used\\)`));
    });

    test('PUT of a target: "required" for a missing field, and only the wrong fields named', async () => {
      const missing = await putTarget(vigil, 'checkout', { p95Ms: 300, availabilityPercent: 99.9, errorRatePercent: 0.5 });
      assert.equal(missing.status, 400);
      assert.equal(missing.body['message'], 'p99Ms is required');
      const several = await putTarget(vigil, 'checkout', { p95Ms: 'fast', p99Ms: null, availabilityPercent: 120, errorRatePercent: 0.5, window: '30d' });
      assert.equal(several.status, 400);
      assert.equal(several.body['message'], 'p95Ms must be a finite number; p99Ms is required; availabilityPercent must not be greater than 100');
      assert.equal((await getJson(`${vigil.url}/sla/status/checkout`, read)).status, 404, 'nothing was stored');
    });

    test('the text report escapes control characters in names the store holds', async () => {
      // Stored directly, as a target written before names were checked would be: the
      // report must be safe whatever the store holds (NUL aside, which Postgres refuses).
      const service = 'evil\u001b[2J\r\nsvc\u009b31m\u007f';
      const targetName = 'Evil \u202eName\\u001b\u0007';
      await vigil.app
        .get<Db>(DATABASE)
        .insertInto('sla_targets')
        .values({ service, name: targetName, p95_ms: 10, p99_ms: 20, availability_percent: 99, error_rate_percent: 1, window: '30d', deleted: 0, updated_at: NOW })
        .execute();
      const response = await fetch(`${vigil.url}/sla/report`, { headers: read });
      assert.equal(response.status, 200);
      const bytes = Buffer.from(await response.arrayBuffer());
      const text = bytes.toString('utf8');
      // Nothing but the report's own line feeds below 0x20, no DEL, no C1 (UTF-8 C2 80–C2 9F), no bidi controls.
      assert.deepEqual([...bytes].filter((byte) => (byte < 0x20 && byte !== 0x0a) || byte === 0x7f), []);
      assert.deepEqual([...text].filter((char) => /[\u0080-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u.test(char)), []);
      const line = '⚪ Evil \\u202eName\\\\u001b\\u0007 (evil\\u001b[2J\\u000d\\u000asvc\\u009b31m\\u007f) - no data, window 30d';
      assert.ok(text.split('\n').includes(line), text);
    });

    if (name === 'sqlite') {
      test('OpenAPI: the text report is text/plain, JSON only with format=json; sla_met optional; no_target listed', async () => {
        const document = (await (await fetch(`${vigil.url}/docs-json`)).json()) as {
          paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> } }>;
          components: { schemas: Record<string, { required?: string[]; properties: Record<string, { enum?: unknown[] }> }> };
        };
        const report = document.paths['/sla/report']!.get!.responses;
        assert.deepEqual(Object.keys(report['200']!.content!).sort(), ['application/json', 'text/plain']);
        assert.equal(report['200']!.content!['text/plain']!.schema['type'], 'string');
        assert.equal(report['200']!.content!['application/json']!.schema['$ref'], '#/components/schemas/SlaReportDto');
        assert.deepEqual(Object.keys(report['400']!.content!), ['application/json']);
        const statusSchema = document.components.schemas['SlaStatusDto']!;
        assert.equal(statusSchema.required!.includes('sla_met'), false);
        assert.ok(statusSchema.required!.includes('status'));
        assert.deepEqual(statusSchema.properties['status']!.enum, ['meeting', 'violated', 'no_data', 'no_target']);
        assert.ok(document.components.schemas['SlaReportDto']);
        assert.ok(document.components.schemas['LatencyDto']!.required!.includes('relative_error_bound'));
      });
    }
  });
}
