import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ManualClock } from '../src/common/clock.js';
import { LatencySketch } from '../src/sla/latency-sketch.js';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../src/sla/sla-windows.js';
import type { TestDb as Db } from '../test/support/all-tables.js';
import { DATABASE } from '../src/storage/database.provider.js';
import { postJson, startApp, type RunningApp } from '../test/support/app.js';
import { DISTRIBUTIONS, seededRandom } from '../test/sla/generators.js';
import type { BenchRow, BenchSection } from './bench-section.js';

const SERVICES = 50;
const REQUESTS = 10_000_000;
const DAYS = 30;
const NOW = Date.UTC(2026, 0, 31, 12, 0, 0);
const ROWS_PER_INSERT = 1000;

/**
 * Seeds the rollups 10 million requests across 50 services over 30 days produce
 * (one minute, hour and day row per service and bucket: 2.16 M minute rows), by
 * writing them straight to the store rather than ingesting 10 M records over HTTP.
 */
async function seedRollups(db: Db): Promise<{ rows: number; seconds: number }> {
  const started = performance.now();
  const random = seededRandom(2026);
  const distributions = Object.values(DISTRIBUTIONS);
  const minutes = (DAYS * DAY_MS) / MINUTE_MS;
  const perMinute = REQUESTS / SERVICES / minutes;
  const firstMinute = Math.floor((NOW - DAYS * DAY_MS) / MINUTE_MS) * MINUTE_MS;
  let rows = 0;
  for (let service = 0; service < SERVICES; service++) {
    const name = service < 3 ? ['api', 'database', 'cache'][service]! : `service-${service}`;
    const distribution = distributions[service % distributions.length]!;
    let pending: Array<Record<string, unknown>> = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const batch = pending;
      pending = [];
      await db.insertInto('sla_rollups').values(batch as never).execute();
      rows += batch.length;
    };
    type Bucket = { start: number; total: number; failed: number; sketch: LatencySketch };
    let hour = null as Bucket | null;
    let day = null as Bucket | null;
    const closeBucket = (resolution: 'hour' | 'day', bucket: Bucket) =>
      pending.push({ resolution, bucket_start: bucket.start, service: name, total: bucket.total, failed: bucket.failed, first_event_at: bucket.start, sketch: bucket.sketch.encode(), updated_at: NOW });
    await db.transaction().execute(async (trx) => {
      for (let index = 0; index < minutes; index++) {
        const minute = firstMinute + index * MINUTE_MS;
        // Poisson-like count around the mean, so totals add up to ~10 M.
        const count = Math.floor(perMinute) + (random() < perMinute % 1 ? 1 : 0);
        if (count === 0) continue;
        const sketch = new LatencySketch();
        let failed = 0;
        for (let request = 0; request < count; request++) {
          sketch.accept(distribution(random));
          if (random() < 0.001) failed++;
        }
        const hourStart = Math.floor(minute / HOUR_MS) * HOUR_MS;
        const dayStart = Math.floor(minute / DAY_MS) * DAY_MS;
        if (hour && hour.start !== hourStart) closeBucket('hour', hour);
        if (!hour || hour.start !== hourStart) hour = { start: hourStart, total: 0, failed: 0, sketch: new LatencySketch() };
        if (day && day.start !== dayStart) closeBucket('day', day);
        if (!day || day.start !== dayStart) day = { start: dayStart, total: 0, failed: 0, sketch: new LatencySketch() };
        for (const bucket of [hour, day] as Bucket[]) {
          bucket.total += count;
          bucket.failed += failed;
          bucket.sketch.merge(sketch);
        }
        pending.push({ resolution: 'minute', bucket_start: minute, service: name, total: count, failed, first_event_at: minute, sketch: sketch.encode(), updated_at: NOW });
        if (pending.length >= ROWS_PER_INSERT) {
          const batch = pending;
          pending = [];
          await trx.insertInto('sla_rollups').values(batch as never).execute();
          rows += batch.length;
        }
      }
      if (hour) closeBucket('hour', hour);
      if (day) closeBucket('day', day);
      const batch = pending;
      pending = [];
      if (batch.length > 0) {
        await trx.insertInto('sla_rollups').values(batch as never).execute();
        rows += batch.length;
      }
    });
    await flush();
  }
  return { rows, seconds: (performance.now() - started) / 1000 };
}

async function timeGets(url: string, headers: Record<string, string>, runs: number): Promise<{ median: number; p95: number; first: number }> {
  const durations: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    const response = await fetch(url, { headers });
    await response.text();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    durations.push(performance.now() - started);
  }
  const first = durations[0]!;
  durations.sort((left, right) => left - right);
  return { median: durations[Math.floor(runs / 2)]!, p95: durations[Math.floor(runs * 0.95)]!, first };
}

async function ingestThroughput(vigil: RunningApp, headers: Record<string, string>): Promise<{ recordsPerSecond: number; rollupPerSecond: number }> {
  const random = seededRandom(7);
  const batches = 100;
  const concurrency = 4;
  const bodies = Array.from({ length: batches }, () => ({
    requests: Array.from({ length: 1000 }, (_, index) => ({
      service: `service-${index % 50}`,
      operation: 'GET /items',
      durationMs: DISTRIBUTIONS['lognormal']!(random),
      statusCode: random() < 0.01 ? 503 : 200,
      timestamp: NOW - Math.floor(random() * HOUR_MS),
    })),
  }));
  await vigil.settle();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await postJson(`${vigil.url}/ingest/requests`, body, headers);
        if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
      }
    }),
  );
  const ingestSeconds = (performance.now() - started) / 1000;
  await vigil.settle();
  const totalSeconds = (performance.now() - started) / 1000;
  return { recordsPerSecond: (batches * 1000) / ingestSeconds, rollupPerSecond: (batches * 1000) / totalSeconds };
}

export async function run(): Promise<BenchSection> {
  // SLA_BENCH_DB (a file path) keeps the seeded store between runs while tuning; by default a temporary one.
  const kept = process.env['SLA_BENCH_DB'];
  const directory = kept ? null : mkdtempSync(join(tmpdir(), 'vigil-sla-bench-'));
  const path = kept ?? join(directory!, 'vigil.db');
  const reuse = kept !== undefined && existsSync(path);
  const key = 'bench-admin-key-0123456789';
  const headers = { authorization: `Bearer ${key}` };
  const vigil = await startApp({ DATABASE_URL: `sqlite:${path}`, VIGIL_ADMIN_KEYS: key, LOG_LEVEL: 'warn' }, { clock: new ManualClock(NOW) });
  const rows: BenchRow[] = [];
  try {
    const seeded = reuse ? { rows: 0, seconds: 0 } : await seedRollups(vigil.app.get<Db>(DATABASE));
    const text = await timeGets(`${vigil.url}/sla/report`, headers, 21);
    const json = await timeGets(`${vigil.url}/sla/report?format=json`, headers, 21);
    const oneService = await timeGets(`${vigil.url}/sla/status/api`, headers, 21);
    const note = `10 M requests across 50 services over 30 days, seeded as rollups (${seeded.rows} rows in ${seeded.seconds.toFixed(0)} s) directly through the store, not ingested; SQLite; median of 21 sequential calls (first call ${text.first.toFixed(1)} ms, p95 ${text.p95.toFixed(1)} ms)`;
    rows.push({ name: 'GET /sla/report (text, 30d windows, 50 services)', value: Number(text.median.toFixed(1)), unit: 'ms', target: '< 50', note });
    rows.push({ name: 'GET /sla/report?format=json', value: Number(json.median.toFixed(1)), unit: 'ms', target: '< 50', note: `p95 ${json.p95.toFixed(1)} ms` });
    rows.push({ name: 'GET /sla/status/api (30d)', value: Number(oneService.median.toFixed(1)), unit: 'ms', note: `p95 ${oneService.p95.toFixed(1)} ms` });
    const ingest = reuse ? { recordsPerSecond: 0, rollupPerSecond: 0 } : await ingestThroughput(vigil, headers);
    rows.push({ name: 'POST /ingest/requests, 1000-record batches, 4 concurrent', value: Math.round(ingest.recordsPerSecond), unit: 'records/s', note: '100 batches, SQLite, 50 services' });
    rows.push({ name: 'Ingest + SLA rollup consumer caught up', value: Math.round(ingest.rollupPerSecond), unit: 'records/s', note: 'from first POST until the SLA consumer has applied every record' });
  } finally {
    await vigil.close();
    if (directory) rmSync(directory, { recursive: true, force: true });
  }
  return { title: 'SLA tracking', rows };
}

// Allows `node .build/<dir>/bench/sla.bench.js` on its own.
if (process.argv[1]?.endsWith('sla.bench.js')) {
  run()
    .then((section) => console.log(JSON.stringify(section, null, 2)))
    .catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
}
