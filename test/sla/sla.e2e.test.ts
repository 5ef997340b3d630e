import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import { SlaMonitor } from '../../src/sla/sla.monitor.js';
import { SlaService } from '../../src/sla/sla.service.js';
import type { SlaStatusBody } from '../../src/sla/sla-status.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { getJson, startApp, type RunningApp } from '../support/app.js';
import { ADMIN_KEY, DAY, HOUR, MINUTE, NOW, READ_KEY, admin, read, round3, sendRequests, slaStatus, type Sent } from './sla-http.js';
import { DISTRIBUTIONS, exactQuantile, relativeError, seededRandom } from './generators.js';
import { storedItems } from '../support/stored-entries.js';


function generate(service: string, distribution: string, count: number, failureRate: number, from: number, to: number, seed: number): Sent[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => ({
    service,
    durationMs: DISTRIBUTIONS[distribution]!(random),
    success: random() >= failureRate,
    // Random order: the records arrive out of time order.
    timestamp: Math.floor(from + random() * (to - from)),
  }));
}

/** Every status except Vigil's own (which grows with each request the test makes). */
async function allStatuses(vigil: RunningApp, window = '7d'): Promise<Record<string, unknown>> {
  const response = await getJson(`${vigil.url}/sla/status?window=${window}`, read);
  assert.equal(response.status, 200);
  const { vigil: _own, ...rest } = response.body;
  return rest;
}

function assertMeasured(measured: SlaStatusBody, records: Sent[], label: string): void {
  const failed = records.filter((record) => !record.success).length;
  assert.equal(measured.metrics.requests.total, records.length, label);
  assert.equal(measured.metrics.requests.failed, failed, label);
  assert.equal(measured.metrics.requests.successful, records.length - failed, label);
  assert.equal(measured.metrics.availability.current_percent, round3(((records.length - failed) / records.length) * 100), label);
  assert.equal(measured.metrics.error_rate.current_percent, round3((failed / records.length) * 100), label);
  const durations = records.map((record) => record.durationMs);
  for (const [quantile, field] of [[0.95, 'p95_ms'], [0.99, 'p99_ms']] as const) {
    const exact = exactQuantile(durations, quantile);
    const estimate = measured.metrics.latency[field]!;
    assert.ok(relativeError(estimate, exact) <= 0.01, `${label} ${field}: ${estimate} vs exact ${exact}`);
  }
}

/** Records the monitor's transition log lines as the monitor writes them. */
function spyOnTransitionLog(monitor: SlaMonitor): string[] {
  const messages: string[] = [];
  const logger = (monitor as unknown as { logger: { warn: (...args: unknown[]) => void; log: (...args: unknown[]) => void } }).logger;
  for (const level of ['warn', 'log'] as const) {
    const original = logger[level].bind(logger);
    logger[level] = (...args: unknown[]) => {
      const message = args.find((arg) => typeof arg === 'string');
      if (typeof message === 'string' && message.startsWith('SLA of')) messages.push(message);
      original(...args);
    };
  }
  return messages;
}


for (const { name, make } of BOTH_DATABASES) {
  describe(`SLA tracking on ${name}`, () => {
    let database: TestDatabase;
    let vigil: RunningApp;
    const clock = new ManualClock(NOW);
    const env = () => ({ DATABASE_URL: database.url, VIGIL_ADMIN_KEYS: ADMIN_KEY, VIGIL_READ_KEYS: READ_KEY });
    const distributionRecords = new Map<string, Sent[]>();
    let apiRecords: Sent[] = [];

    before(async () => {
      database = await make();
      vigil = await startApp(env(), { clock });
      let seed = 1;
      for (const distribution of Object.keys(DISTRIBUTIONS)) {
        distributionRecords.set(distribution, generate(`dist-${distribution}`, distribution, 3000, 0.02, NOW - 6 * DAY, NOW - MINUTE, seed++));
      }
      apiRecords = generate('api', 'lognormal', 4000, 0.0005, NOW - 5 * DAY, NOW - MINUTE, 99);
      await sendRequests(vigil, [...[...distributionRecords.values()].flat(), ...apiRecords]);
      await vigil.settle();
    });
    after(async () => {
      await vigil?.close();
      await database?.drop();
    });

    test('p95/p99 within 1 % of exact for each distribution; availability and error rate exact', async () => {
      for (const [distribution, records] of distributionRecords) {
        const measured = await slaStatus(vigil, `dist-${distribution}`, '7d');
        assertMeasured(measured, records, distribution);
        assert.equal(measured.target, null);
        assert.equal(measured.status, 'no_target');
        assert.equal('sla_met' in measured, false);
        assert.equal(measured.error_budget, null);
        assert.equal(measured.metrics.latency.relative_error_bound, 0.01);
      }
      // Only the last 24 h: the window subset is measured exactly too.
      const recent = distributionRecords.get('pareto')!.filter((record) => record.timestamp >= NOW - DAY);
      assertMeasured(await slaStatus(vigil, 'dist-pareto', '24h'), recent, 'pareto 24h');
    });

    test('a sketch cache smaller than one window still measures every hour and day of it, call after call', async () => {
      const service = vigil.app.get(SlaService);
      const bound = service.maxCachedSketches;
      const names = [...distributionRecords.keys()];
      // 24 h: one window part of hour rows, so a call finds some of them cached and fetches the rest.
      const measuredWithRoom = await Promise.all(names.map((distribution) => slaStatus(vigil, `dist-${distribution}`, '24h')));
      service.maxCachedSketches = 5;
      try {
        // The same service again and again: each call finds some of its rows cached.
        for (const [index, distribution] of names.entries()) {
          for (let call = 0; call < 3; call++) {
            const measured = await slaStatus(vigil, `dist-${distribution}`, '24h');
            assert.deepEqual(measured.metrics, measuredWithRoom[index]!.metrics, `${distribution}, call ${call}`);
            const recent = distributionRecords.get(distribution)!.filter((record) => record.timestamp >= NOW - DAY);
            assertMeasured(measured, recent, `${distribution}, call ${call}`);
          }
        }
      } finally {
        service.maxCachedSketches = bound;
      }
    });

    test('a default target: target name, checks, error budget and burn rates exact', async () => {
      const api = await slaStatus(vigil, 'api');
      assert.equal(api.window, '30d');
      assert.equal(api.target, 'API Endpoints');
      assertMeasured(api, apiRecords, 'api');
      const failed = apiRecords.filter((record) => !record.success).length;
      const allowed = (1 - 0.999) * apiRecords.length;
      assert.deepEqual(api.error_budget, {
        window: '30d',
        total_requests: apiRecords.length,
        allowed_failures: round3(allowed),
        consumed_failures: failed,
        consumed_percent: round3((failed / allowed) * 100),
        remaining_failures: round3(allowed - failed),
        remaining_percent: round3(100 - (failed / allowed) * 100),
      });
      const lastHour = apiRecords.filter((record) => record.timestamp >= NOW - HOUR);
      const lastHourFailed = lastHour.filter((record) => !record.success).length;
      assert.equal(api.burn_rate!.windows['1h'], round3(lastHour.length ? lastHourFailed / lastHour.length / 0.001 : 0));
      const p95Exact = exactQuantile(apiRecords.map((record) => record.durationMs), 0.95);
      assert.equal(api.metrics.latency.p95_target_ms, 500);
      assert.equal(api.metrics.latency.p95_ok, api.metrics.latency.p95_ms! <= 500);
      assert.ok(p95Exact > 0);
      assert.deepEqual(api.burn_rate!.alerts.map((alert) => [alert.tier, alert.long_window, alert.short_window, alert.threshold]), [
        ['page', '1h', '5m', 14.4],
        ['page', '6h', '30m', 6],
        ['ticket', '1d', '2h', 3],
        ['ticket', '3d', '6h', 1],
      ]);
      const database_ = await slaStatus(vigil, 'database');
      assert.equal(database_.status, 'no_data');
      assert.equal(database_.target, 'Database Queries');
    });

    test('window edges: 1 s inside counts, 1 s outside does not', async () => {
      await sendRequests(vigil, [
        { service: 'edge', durationMs: 10, success: true, timestamp: NOW - HOUR + 1000 },
        { service: 'edge', durationMs: 20, success: false, timestamp: NOW - HOUR - 1000 },
        { service: 'edge', durationMs: 30, success: true, timestamp: NOW - DAY + 1000 },
        { service: 'edge', durationMs: 40, success: true, timestamp: NOW - DAY - 1000 },
      ]);
      await vigil.settle();
      assert.deepEqual((await slaStatus(vigil, 'edge', '1h')).metrics.requests, { total: 1, successful: 1, failed: 0 });
      assert.deepEqual((await slaStatus(vigil, 'edge', '24h')).metrics.requests, { total: 3, successful: 2, failed: 1 });
      assert.deepEqual((await slaStatus(vigil, 'edge', '7d')).metrics.requests, { total: 4, successful: 3, failed: 1 });
    });

    test('back-filled and out-of-order records land in their own minutes', async () => {
      const recent = generate('backfill', 'uniform', 50, 0, NOW - 10 * MINUTE, NOW - MINUTE, 7);
      await sendRequests(vigil, recent);
      await vigil.settle();
      const old = [
        { service: 'backfill', durationMs: 5000, success: false, timestamp: NOW - 20 * DAY },
        { service: 'backfill', durationMs: 5000, success: false, timestamp: NOW - 20 * DAY + 3 * HOUR },
        { service: 'backfill', durationMs: 1, success: true, timestamp: NOW - 40 * DAY },
      ];
      await sendRequests(vigil, old);
      await vigil.settle();
      assert.deepEqual((await slaStatus(vigil, 'backfill', '7d')).metrics.requests, { total: 50, successful: 50, failed: 0 });
      assert.deepEqual((await slaStatus(vigil, 'backfill', '30d')).metrics.requests, { total: 52, successful: 50, failed: 2 });
      assertMeasured(await slaStatus(vigil, 'backfill', '30d'), [...recent, ...old.slice(0, 2)], 'backfill 30d');
    });

    test('endpoints: report text and JSON, window validation, 404, auth', async () => {
      const text = await fetch(`${vigil.url}/sla/report`, { headers: read });
      assert.equal(text.status, 200);
      assert.match(text.headers.get('content-type') ?? '', /^text\/plain/);
      const body = await text.text();
      assert.match(body, /SLA Report/);
      assert.match(body, /(✅|❌) API Endpoints \(api\)/);
      assert.match(body, /P95: [\d.]+ms \(target: 500ms\)/);
      assert.match(body, /Error Budget Left: /);
      assert.match(body, /Burn Rate: /);
      const json = await getJson(`${vigil.url}/sla/report?format=json&window=24h`, read);
      assert.equal(json.status, 200);
      assert.equal(json.body.generated_at, new Date(NOW).toISOString());
      const services = json.body.services as Record<string, SlaStatusBody>;
      assert.equal(services['api']!.window, '24h');
      assert.deepEqual(Object.keys(services).filter((service) => service !== 'vigil').sort(), ['api', 'backfill', 'cache', 'database', ...[...distributionRecords.keys()].map((d) => `dist-${d}`), 'edge'].sort());
      const badWindow = await getJson(`${vigil.url}/sla/status?window=2h`, read);
      assert.equal(badWindow.status, 400);
      assert.match(String(badWindow.body.message), /window must be one of 1h, 24h, 7d, 30d/);
      assert.equal((await getJson(`${vigil.url}/sla/report?window=90d`, read)).status, 400);
      assert.equal((await getJson(`${vigil.url}/sla/status/nobody`, read)).status, 404);
      assert.equal((await getJson(`${vigil.url}/sla/status`)).status, 401);
    });

    test('targets: PUT validates and persists, DELETE removes, read keys cannot change them', async () => {
      const put = (service: string, body: unknown, headers = admin) =>
        fetch(`${vigil.url}/sla/targets/${service}`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const valid = { name: 'Edge Proxy', p95Ms: 25, p99Ms: 35, availabilityPercent: 90, errorRatePercent: 50, window: '7d' };
      assert.equal((await put('edge', valid, read)).status, 403);
      const bad = await put('edge', { ...valid, p95Ms: 'fast' });
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { message: string }).message, 'p95Ms must be a finite number');
      const unknownField = await put('edge', { ...valid, p50Ms: 1 });
      assert.equal(unknownField.status, 400);
      assert.equal(((await unknownField.json()) as { message: string }).message, 'p50Ms is not a known field');
      const hundred = await put('edge', { ...valid, availabilityPercent: 100 });
      assert.match(((await hundred.json()) as { message: string }).message, /availabilityPercent must be less than 100/);
      const ok = await put('edge', valid);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { service: 'edge', name: 'Edge Proxy', p95_ms: 25, p99_ms: 35, availability_percent: 90, error_rate_percent: 50, window: '7d', source: 'api' });
      const edge = await slaStatus(vigil, 'edge');
      assert.equal(edge.target, 'Edge Proxy');
      assert.equal(edge.window, '7d');
      // 4 requests of 10, 20, 30, 40 ms: p95 and p99 are sorted[⌊0.95·3⌋] = sorted[⌊0.99·3⌋] = 30 ms, exact
      // (few requests): p95 over 25 ms is violated; 1 failure of 4 is 75 % available (< 90).
      assert.deepEqual([edge.metrics.latency.p95_ms, edge.metrics.latency.p99_ms, edge.metrics.latency.relative_error_bound], [30, 30, 0]);
      assert.deepEqual([edge.metrics.latency.p95_ok, edge.metrics.latency.p99_ok], [false, true]);
      assert.equal(edge.status, 'violated');
      assert.equal(edge.metrics.availability.ok, false);
      assert.equal(edge.metrics.error_rate.ok, true);
      const targets = await getJson(`${vigil.url}/sla/targets`, read);
      assert.deepEqual(Object.keys(targets.body), ['api', 'cache', 'database', 'edge']);
      const remove = await fetch(`${vigil.url}/sla/targets/cache`, { method: 'DELETE', headers: admin });
      assert.equal(remove.status, 204);
      assert.equal((await fetch(`${vigil.url}/sla/targets/cache`, { method: 'DELETE', headers: admin })).status, 404);
      assert.equal((await getJson(`${vigil.url}/sla/status/cache`, read)).status, 404);
    });

    test('transitions: meeting → violated → meeting, announced once each (event + log line)', async () => {
      const monitor = vigil.app.get(SlaMonitor);
      const announced = spyOnTransitionLog(monitor);
      await fetch(`${vigil.url}/sla/targets/flaky`, {
        method: 'PUT',
        headers: { ...admin, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Flaky Service', p95Ms: 1000, p99Ms: 2000, availabilityPercent: 99, errorRatePercent: 5 }),
      });
      await sendRequests(vigil, Array.from({ length: 100 }, (_, index) => ({ service: 'flaky', durationMs: 10, success: true, timestamp: NOW - 2 * HOUR + index })));
      await vigil.settle();
      await monitor.evaluate();
      await sendRequests(vigil, Array.from({ length: 10 }, (_, index) => ({ service: 'flaky', durationMs: 10, success: false, timestamp: NOW - HOUR + index })));
      await vigil.settle();
      await monitor.evaluate();
      await monitor.evaluate();
      const events = async () => {
        const stored = await storedItems<{ title: string; alertType: string; source: string; tags: Record<string, string> }>(vigil.app.get<Db>(DATABASE), ['event']);
        return stored.filter((event) => event.tags['service'] === 'flaky');
      };
      const violated = await events();
      assert.equal(violated.length, 1);
      assert.equal(violated[0]!.alertType, 'error');
      assert.equal(violated[0]!.source, 'vigil');
      assert.match(violated[0]!.title, /SLA violated: Flaky Service/);
      const logLines = () => announced.filter((message) => message.includes('SLA of flaky went from'));
      assert.equal(logLines().length, 1);
      assert.equal(vigil.logs.lines.filter((line) => line.includes('SLA of flaky went from meeting to violated')).length, 1);
      // Recovery: many successes bring availability back over 99 %.
      await sendRequests(vigil, Array.from({ length: 2000 }, (_, index) => ({ service: 'flaky', durationMs: 10, success: true, timestamp: NOW - 30 * MINUTE + index })));
      await vigil.settle();
      await monitor.evaluate();
      const after = await events();
      assert.equal(after.length, 2);
      assert.equal(after[1]!.alertType, 'success');
      assert.equal(logLines().length, 2);
    });

    test('Prometheus: SLA gauges and per-service request metrics', async () => {
      await vigil.app.get(SlaMonitor).evaluate();
      const text = await (await fetch(`${vigil.url}/metrics`)).text();
      assert.match(text, /vigil_sla_met\{service="flaky"\} 1/);
      assert.match(text, /vigil_sla_met\{service="edge"\} 0/);
      assert.match(text, /vigil_sla_latency_seconds\{service="api",quantile="0.99"\} [\d.e-]+/);
      assert.match(text, /vigil_sla_burn_rate\{service="api",window="1h"\} [\d.e-]+/);
      assert.match(text, /vigil_sla_error_budget_remaining_ratio\{service="api"\} [\d.e-]+/);
      const apiSuccesses = apiRecords.filter((record) => record.success).length;
      assert.match(text, new RegExp(`vigil_service_requests_total\\{service="api",outcome="success"\\} ${apiSuccesses}\\b`));
      assert.match(text, /vigil_service_request_duration_seconds_bucket\{le="0.1",service="api",outcome="success"\} \d+/);
    });

    test('a restart keeps every number and announces nothing again', async () => {
      const before = await allStatuses(vigil);
      const reportBefore = await getJson(`${vigil.url}/sla/status/api?window=30d`, read);
      await vigil.close();
      vigil = await startApp(env(), { clock });
      const announced = spyOnTransitionLog(vigil.app.get(SlaMonitor));
      await vigil.settle();
      assert.deepEqual(await allStatuses(vigil), before);
      assert.deepEqual((await getJson(`${vigil.url}/sla/status/api?window=30d`, read)).body, reportBefore.body);
      assert.deepEqual(await vigil.app.get(SlaMonitor).evaluate(), []);
      assert.deepEqual(announced, []);
      // Vigil's own requests were flushed at shutdown and are measured as service `vigil`.
      const own = await slaStatus(vigil, 'vigil', '1h');
      assert.ok(own.metrics.requests.total > 10, JSON.stringify(own.metrics.requests));
    });

    if (name === 'postgres') {
      test('two instances on one Postgres report the numbers of all their records merged', async () => {
        const other = await startApp(env(), { clock });
        try {
          const first = generate('shared', 'lognormal', 1500, 0.01, NOW - 3 * HOUR, NOW - MINUTE, 501);
          const second = generate('shared', 'pareto', 1500, 0.05, NOW - 3 * HOUR, NOW - MINUTE, 502);
          await Promise.all([sendRequests(vigil, first), sendRequests(other, second)]);
          await vigil.settle();
          await other.settle();
          await vigil.settle();
          const fromFirst = await slaStatus(vigil, 'shared', '24h');
          const fromSecond = await slaStatus(other, 'shared', '24h');
          assert.deepEqual(fromFirst, fromSecond);
          assertMeasured(fromFirst, [...first, ...second], 'merged');
        } finally {
          await other.close();
        }
      });
    }
  });
}
