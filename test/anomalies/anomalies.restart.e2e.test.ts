/**
 * Restart continuity, mute list and series cap through the real app on both stores.
 * A graceful restart (shutdown checkpoint) and a crash (no checkpoint: the new app restores the
 * last snapshots and replays the log) must both give exactly the anomalies and counters of one
 * uninterrupted run, with no duplicate rows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { Worker } from 'node:worker_threads';
import { DetectionThread } from '../../src/anomalies/detection-thread.client.js';
import { DerivedStateRunner } from '../../src/ingest-log/log-consumers.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, anomalies, ingestMetrics, report, type Report } from './anomalies-http.js';
import { pointsOf, syntheticSeries } from './anomalies-series.js';

// Not a multiple of SNAPSHOT_EVERY_POINTS, so the crash leaves points after the last snapshots.
const HALF = 1700;

function comparable(rows: Awaited<ReturnType<typeof anomalies>>) {
  return rows.map((row) => ({ metric: row.metric, tags: row.tags, timestamp: row.timestamp, value: row.value }));
}

async function storedRows(vigil: RunningApp): Promise<number> {
  const db = vigil.app.get<Db>(DATABASE);
  const row = await db.selectFrom('anomalies').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  return Number(row?.n ?? 0);
}

async function position(vigil: RunningApp, consumer: string): Promise<number> {
  const db = vigil.app.get<Db>(DATABASE);
  const row = await db.selectFrom('consumer_positions').select('position').where('consumer', '=', consumer).executeTakeFirst();
  return Number(row?.position ?? -1);
}

function counters(body: Report) {
  return { metrics: body.metrics, total: body.total_points_processed, data: body.total_data_points, anomalies: body.anomalies_detected };
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`anomaly restarts, mute list and cap on ${name}`, () => {
    const series = syntheticSeries();
    const databases: TestDatabase[] = [];
    const apps: RunningApp[] = [];
    let straight: { rows: ReturnType<typeof comparable>; report: Report };

    const fresh = async () => {
      const database = await make();
      databases.push(database);
      return database;
    };
    const start = async (database: TestDatabase, env: Record<string, string> = {}) => {
      const vigil = await startApp({ DATABASE_URL: database.url, ...KEYS, ...env });
      apps.push(vigil);
      return vigil;
    };

    before(async () => {
      const vigil = await start(await fresh());
      await ingestMetrics(vigil, pointsOf(series), 1000);
      straight = { rows: comparable(await anomalies(vigil)), report: await report(vigil) };
      assert.ok(straight.rows.length >= 4);
    });
    after(async () => {
      for (const vigil of apps.reverse()) await vigil.close().catch(() => undefined);
      for (const database of databases) await database.drop();
    });

    test('graceful restart half-way: the same anomalies and counters as one uninterrupted run', async () => {
      const database = await fresh();
      const first = await start(database);
      await ingestMetrics(first, pointsOf(series, 0, HALF), 1000);
      const half = await report(first);
      await first.close();
      const second = await start(database);
      await second.settle();
      assert.deepEqual(counters(await report(second)), counters(half));
      await ingestMetrics(second, pointsOf(series, HALF), 1000);
      assert.deepEqual(comparable(await anomalies(second)), straight.rows);
      assert.deepEqual(counters(await report(second)), counters(straight.report));
      assert.equal(await storedRows(second), straight.rows.length);
    });

    test('crash half-way (no shutdown snapshot): the new app replays the log into the restored series, exactly once', async () => {
      const database = await fresh();
      const first = await start(database);
      await ingestMetrics(first, pointsOf(series, 0, HALF), 700);
      const half = await report(first);
      // Points after the last snapshots exist, so the restart must replay them.
      assert.ok((await position(first, 'anomalies-replay')) < (await position(first, 'anomalies')), 'nothing to replay');
      // The crash: this app stops consuming and never writes a shutdown snapshot for what it applied.
      await first.app.get(DerivedStateRunner).beforeApplicationShutdown();
      const second = await start(database);
      await second.settle();
      assert.deepEqual(counters(await report(second)), counters(half));
      await ingestMetrics(second, pointsOf(series, HALF), 700);
      assert.deepEqual(comparable(await anomalies(second)), straight.rows);
      assert.deepEqual(counters(await report(second)), counters(straight.report));
      assert.equal(await storedRows(second), straight.rows.length);
    });

    test('the detection thread dies half-way: the models reload from the store, exactly once', async () => {
      const vigil = await start(await fresh());
      await ingestMetrics(vigil, pointsOf(series, 0, HALF), 700);
      const half = await report(vigil);
      const thread = vigil.app.get(DetectionThread) as unknown as { worker: Worker | undefined };
      await thread.worker!.terminate();
      while (thread.worker !== undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      // In one request, so that the first batch after the loss runs inside settle(): it must
      // reload the detectors and succeed then, not fail and leave the reload to a later wake-up.
      await ingestMetrics(vigil, pointsOf(series, HALF), 12_000);
      assert.deepEqual(comparable(await anomalies(vigil)), straight.rows);
      assert.deepEqual(counters(await report(vigil)), counters(straight.report));
      assert.notDeepEqual(counters(half), counters(straight.report));
      assert.equal(await storedRows(vigil), straight.rows.length);
    });

    test('tag sets that differ only in where a tag splits at "=" are one series, as their stored identity is, across a restart', async () => {
      const database = await fresh();
      const twins = (from: number, to: number) =>
        Array.from({ length: to - from }, (_unused, offset) => ({
          name: 'test.twins',
          value: from + offset,
          timestamp: 1_700_000_000_000 + (from + offset) * 1000,
          tags: ((from + offset) % 2 === 0 ? { 'a=b': 'c' } : { a: 'b=c' }) as Record<string, string>,
        }));
      const first = await start(database);
      await ingestMetrics(first, twins(0, 300));
      await first.close();
      const second = await start(database);
      await ingestMetrics(second, twins(300, 500));
      const body = await report(second);
      assert.equal(body.series_monitored, 1);
      assert.equal(body.metrics['test.twins']!.points_processed, 500);
      assert.equal(body.metrics['test.twins']!.data_points, 500);
    });

    test('muted metrics are counted but raise nothing; series over the cap are counted, not modelled', async () => {
      // First seen: test.spike, test.shift, test.variance (modelled), then test.seasonal (over the cap of 3).
      // Its last 32 points come after every other series stopped: with the default idle time (1 h) the 12th
      // of them would evict test.spike (anomalies.eviction.e2e.test.ts covers eviction); a day keeps it refused.
      const vigil = await start(await fresh(), { VIGIL_ANOMALY_MUTE: 'test.shift', VIGIL_ANOMALY_MAX_SERIES: '3', VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '86400' });
      await ingestMetrics(vigil, pointsOf(series));
      const rows = await anomalies(vigil);
      assert.deepEqual([...new Set(rows.map((row) => row.metric))].sort(), ['test.spike', 'test.variance']);
      assert.deepEqual(
        comparable(rows),
        straight.rows.filter((row) => row.metric === 'test.spike' || row.metric === 'test.variance'),
      );
      const body = await report(vigil);
      assert.deepEqual(Object.keys(body.metrics).sort(), ['test.shift', 'test.spike', 'test.variance']);
      assert.equal(body.metrics['test.shift']!.points_processed, 4000);
      assert.equal(body.metrics['test.shift']!.anomalies, 0);
      assert.equal(body.series_monitored, 3);
      assert.equal(body.points_over_cap, 4032);
      assert.equal(body.series_over_cap, 1);
      assert.equal(body.total_points_processed, 12_000);
      const exposition = await (await fetch(`${vigil.url}/metrics`)).text();
      assert.match(exposition, /vigil_anomaly_series 3\n/);
      assert.match(exposition, /vigil_anomaly_series_over_cap 1\n/);
      assert.match(exposition, /vigil_anomaly_points_over_cap 4032\n/);
    });
  });
}
