/**
 * Series eviction at VIGIL_ANOMALY_MAX_SERIES through the real app on both stores: a full cap
 * evicts the series idle longest in data time (point timestamps), never by the wall clock, so an
 * uninterrupted run, a graceful restart and a crash give the same evictions, anomalies and counters.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { DerivedStateRunner } from '../../src/ingest-log/log-consumers.js';
import { startApp, type RunningApp } from '../support/app.js';
import { BOTH_DATABASES, type TestDatabase } from '../support/databases.js';
import { KEYS, anomalies, ingestMetrics, report, type Point, type Report } from './anomalies-http.js';
import { STEP_MS, T0, synthetic } from './synthetic.js';

const HOUR_MS = 3_600_000;

async function scrape(vigil: RunningApp): Promise<string> {
  return (await fetch(`${vigil.url}/metrics`)).text();
}

async function storedSeriesIds(vigil: RunningApp): Promise<string[]> {
  const rows = await vigil.app.get<Db>(DATABASE).selectFrom('anomaly_series').select('series_id').orderBy('series_id').execute();
  return rows.map((row) => row.series_id);
}

/** The stored id of a metric series without tags (see seriesIdOf and identityText). */
function seriesIdOf(metric: string): string {
  return createHash('sha1').update(`m\u0000${metric}`).digest('hex');
}

async function replayPosition(vigil: RunningApp): Promise<{ replay: number; applied: number }> {
  const rows = await vigil.app.get<Db>(DATABASE).selectFrom('consumer_positions').select(['consumer', 'position']).execute();
  const of = (name: string) => Number(rows.find((row) => row.consumer === name)?.position ?? -1);
  return { replay: of('anomalies-replay'), applied: of('anomalies') };
}

/**
 * Five series on 5-minute steps (cap 3, idle 1 h = 12 steps), ordered by step, then a..e:
 * early (steps 0-1499) and late (0-1509) stop; c runs 0-2999; d starts at 1505 and is refused until
 * early has been idle 12 steps (1511: early evicted); e starts at 1515 and is refused until late has been
 * idle 12 steps (1521: late evicted). So: 12 points refused, 2 series evicted, c, d and e modelled.
 */
function scenario(): Point[] {
  const spans: Array<{ name: string; from: number; to: number; seed: number; change?: (index: number, value: number, noise: number) => number }> = [
    { name: 'evict.early', from: 0, to: 1500, seed: 31 },
    { name: 'evict.late', from: 0, to: 1510, seed: 32 },
    { name: 'evict.c', from: 0, to: 3000, seed: 33, change: (index, value, noise) => value + noise + (index >= 2500 ? 8 : 0) },
    { name: 'evict.d', from: 1505, to: 3000, seed: 34, change: (index, value, noise) => value + noise + (index === 2600 ? 15 : 0) },
    { name: 'evict.e', from: 1515, to: 3000, seed: 35, change: (index, value, noise) => value + noise * (index >= 2700 ? 5 : 1) },
  ];
  const data = spans.map((span) => synthetic({ n: 3000, seed: span.seed, modify: span.change }));
  const points: Point[] = [];
  for (let step = 0; step < 3000; step++) {
    spans.forEach((span, index) => {
      if (step >= span.from && step < span.to) points.push({ name: span.name, value: data[index]!.values[step]!, timestamp: data[index]!.times[step]! });
    });
  }
  return points;
}

const before = (points: Point[], step: number) => points.filter((point) => point.timestamp < T0 + step * STEP_MS);
const from = (points: Point[], step: number) => points.filter((point) => point.timestamp >= T0 + step * STEP_MS);

function comparable(rows: Awaited<ReturnType<typeof anomalies>>) {
  return rows.map((row) => ({ metric: row.metric, timestamp: row.timestamp, value: row.value }));
}

function durable(body: Report) {
  return {
    metrics: body.metrics,
    series: body.series_monitored,
    total: body.total_points_processed,
    data: body.total_data_points,
    anomalies: body.anomalies_detected,
    pointsOverCap: body.points_over_cap,
    evicted: body.series_evicted,
  };
}

for (const { name, make } of BOTH_DATABASES) {
  describe(`anomaly series eviction on ${name}`, () => {
    const databases: TestDatabase[] = [];
    const apps: RunningApp[] = [];
    const start = async (database?: TestDatabase, env: Record<string, string> = {}) => {
      const target = database ?? (await make());
      if (!database) databases.push(target);
      const vigil = await startApp({ DATABASE_URL: target.url, ...KEYS, ...env });
      apps.push(vigil);
      return { vigil, database: target };
    };
    after(async () => {
      for (const vigil of apps.reverse()) await vigil.close().catch(() => undefined);
      for (const database of databases) await database.drop();
    });

    test('a cap filled by one batch: a new series is refused until the idlest series has been idle the idle time in data time, then evicts it', async () => {
      const { vigil } = await start(undefined, { VIGIL_ANOMALY_MAX_SERIES: '5', VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '3600' });
      // One batch: 10 series x 10 points one minute apart; s0-s4 fill the cap, s5-s9 are refused.
      const batch: Point[] = [];
      for (let minute = 0; minute < 10; minute++) {
        for (let index = 0; index < 10; index++) batch.push({ name: `cap.s${index}`, value: index + minute, timestamp: T0 + minute * 60_000 });
      }
      await ingestMetrics(vigil, batch);
      let body = await report(vigil);
      assert.equal(body.series_monitored, 5);
      assert.equal(body.points_over_cap, 50);
      assert.equal(body.series_over_cap, 5);
      assert.equal(body.series_evicted, 0);

      // The newest point so far is at minute 9; s0 was touched first at minute 9, so it is the idlest.
      const lastPoint = T0 + 9 * 60_000;
      await ingestMetrics(vigil, [{ name: 'cap.fresh', value: 1, timestamp: lastPoint + HOUR_MS - 1 }]);
      body = await report(vigil);
      assert.equal(body.series_evicted, 0, 'idle 1 ms short of the idle time: refused');
      assert.equal(body.points_over_cap, 51);
      assert.equal(body.series_over_cap, 6);

      await ingestMetrics(vigil, [
        { name: 'cap.fresh', value: 2, timestamp: lastPoint + HOUR_MS },
        { name: 'cap.fresh', value: 3, timestamp: lastPoint + HOUR_MS + 60_000 },
      ]);
      body = await report(vigil);
      assert.equal(body.series_evicted, 1);
      assert.equal(body.series_monitored, 5);
      assert.equal(body.points_over_cap, 51);
      assert.deepEqual(Object.keys(body.metrics).sort(), ['cap.fresh', 'cap.s1', 'cap.s2', 'cap.s3', 'cap.s4']);
      assert.equal(body.metrics['cap.fresh']!.points_processed, 2);
      assert.equal(body.metrics['cap.fresh']!.data_points, 2);
      const stored = await storedSeriesIds(vigil);
      assert.equal(stored.length, 5);
      assert.ok(!stored.includes(seriesIdOf('cap.s0')), 'the evicted series is deleted from the store');
      assert.ok(stored.includes(seriesIdOf('cap.fresh')));

      const exposition = await scrape(vigil);
      assert.match(exposition, /^vigil_anomaly_series_evicted_total 1$/m);
      assert.match(exposition, /^vigil_anomaly_series_over_cap 6$/m);
      assert.match(exposition, /^vigil_anomaly_points_over_cap 51$/m);
      assert.match(exposition, /^vigil_anomaly_series 5$/m);
    });

    test('idle time 0: a series evicted in the batch that touched it keeps that batch\'s verdicts; its handle serves the next series', async () => {
      const { vigil } = await start(undefined, { VIGIL_ANOMALY_MAX_SERIES: '1', VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '0' });
      // One batch: one.a, then one.b evicts it, then one.a comes back and evicts one.b.
      await ingestMetrics(vigil, [
        { name: 'one.a', value: 1, timestamp: T0 },
        { name: 'one.a', value: 2, timestamp: T0 + 1000 },
        { name: 'one.b', value: 3, timestamp: T0 + 1000 },
        { name: 'one.a', value: 4, timestamp: T0 + 2000 },
      ]);
      let body = await report(vigil);
      assert.equal(body.series_evicted, 2);
      assert.equal(body.points_over_cap, 0);
      assert.deepEqual(Object.keys(body.metrics), ['one.a']);
      assert.equal(body.metrics['one.a']!.points_processed, 1, 'a new model: the points before its eviction are gone with it');
      await ingestMetrics(vigil, [{ name: 'one.c', value: 5, timestamp: T0 + 3000 }]);
      await ingestMetrics(vigil, [{ name: 'one.c', value: 6, timestamp: T0 + 4000 }]);
      body = await report(vigil);
      assert.equal(body.series_evicted, 3);
      assert.deepEqual(Object.keys(body.metrics), ['one.c']);
      assert.equal(body.metrics['one.c']!.data_points, 2);
      assert.deepEqual(await storedSeriesIds(vigil), [seriesIdOf('one.c')]);
      assert.match(await scrape(vigil), /^vigil_anomaly_series_evicted_total 3$/m);
    });

    const env = { VIGIL_ANOMALY_MAX_SERIES: '3', VIGIL_ANOMALY_SERIES_IDLE_SECONDS: '3600' };
    const points = scenario();
    let straight: { rows: ReturnType<typeof comparable>; report: Report; stored: string[] };

    test('an uninterrupted run: the series idle longest are evicted, exactly when idle 1 h in data time', async () => {
      const { vigil } = await start(undefined, env);
      await ingestMetrics(vigil, points, 1000);
      const body = await report(vigil);
      straight = { rows: comparable(await anomalies(vigil)), report: body, stored: await storedSeriesIds(vigil) };
      assert.ok(straight.rows.length >= 2, `anomalies: ${straight.rows.length}`);
      assert.deepEqual(Object.keys(body.metrics).sort(), ['evict.c', 'evict.d', 'evict.e']);
      assert.equal(body.series_evicted, 2);
      assert.equal(body.points_over_cap, 12);
      assert.equal(body.series_over_cap, 2);
      assert.equal(body.metrics['evict.d']!.points_processed, 3000 - 1511);
      assert.equal(body.metrics['evict.e']!.points_processed, 3000 - 1521);
      assert.equal(body.total_points_processed, 3000 + (3000 - 1511) + (3000 - 1521));
      assert.deepEqual(straight.stored, [seriesIdOf('evict.c'), seriesIdOf('evict.d'), seriesIdOf('evict.e')].sort());
      assert.match(await scrape(vigil), /^vigil_anomaly_series_evicted_total 2$/m);
    });

    test('graceful restart just before the first eviction: the restored data time and series order evict the same series', async () => {
      const first = await start(undefined, env);
      await ingestMetrics(first.vigil, before(points, 1511), 1000);
      assert.equal((await report(first.vigil)).series_evicted, 0);
      await first.vigil.close();
      const { vigil } = await start(first.database, env);
      await ingestMetrics(vigil, from(points, 1511), 1000);
      assert.deepEqual(comparable(await anomalies(vigil)), straight.rows);
      assert.deepEqual(durable(await report(vigil)), durable(straight.report));
      assert.deepEqual(await storedSeriesIds(vigil), straight.stored);
      assert.match(await scrape(vigil), /^vigil_anomaly_series_evicted_total 2$/m);
    });

    test('crash between the two evictions: the evicted series stays evicted and the replay gives the same verdicts', async () => {
      const first = await start(undefined, env);
      await ingestMetrics(first.vigil, before(points, 1518), 700);
      const half = await report(first.vigil);
      assert.equal(half.series_evicted, 1);
      assert.ok(!('evict.early' in half.metrics));
      const positions = await replayPosition(first.vigil);
      assert.ok(positions.replay < positions.applied, 'nothing to replay');
      await first.vigil.app.get(DerivedStateRunner).beforeApplicationShutdown();
      const { vigil } = await start(first.database, env);
      await vigil.settle();
      assert.deepEqual(durable(await report(vigil)), durable(half));
      assert.ok(!(await storedSeriesIds(vigil)).includes(seriesIdOf('evict.early')));
      await ingestMetrics(vigil, from(points, 1518), 700);
      assert.deepEqual(comparable(await anomalies(vigil)), straight.rows);
      assert.deepEqual(durable(await report(vigil)), durable(straight.report));
      assert.deepEqual(await storedSeriesIds(vigil), straight.stored);
      // This process evicted one series (late); early was evicted by the one that crashed.
      assert.match(await scrape(vigil), /^vigil_anomaly_series_evicted_total 1$/m);
    });
  });
}
