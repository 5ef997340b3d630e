import { performance } from 'node:perf_hooks';
import { SeriesDetector } from '../src/anomalies/detection/series-detector.js';
import { SeededRandom } from '../src/anomalies/detection/rng.js';
import type { BenchSection } from './bench-section.js';
import { BENCH_KEY, round, startVigil } from './bench-support.js';

/**
 * Anomaly detection: points/s through one SeriesDetector alone (past its warm-up), and ingest
 * points/s of POST /ingest/metrics with detection on (Vigil as its own process, SQLite), with the
 * time from the last 202 until /anomalies/report's total_points_processed equals what was sent
 * (does detection keep up with ingest?).
 */
const STEP_MS = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const READ_KEY = 'bench-read-key-0123456789';

function detectorAlone(): number {
  const rng = new SeededRandom(77);
  const values = Array.from({ length: 60_000 }, (_unused, index) => 100 + 10 * Math.sin((2 * Math.PI * index) / 288) + rng.nextGaussian());
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const detector = SeriesDetector.create({ sensitivity: 'medium' });
    for (let index = 0; index < 2000; index++) detector.observe(T0 + index * STEP_MS, values[index]!);
    const start = performance.now();
    for (let index = 2000; index < values.length; index++) detector.observe(T0 + index * STEP_MS, values[index]!);
    best = Math.max(best, (values.length - 2000) / ((performance.now() - start) / 1000));
  }
  return best;
}

async function ingestWithDetection(series: number, pointsPerSeries: number, batch: number, concurrency: number) {
  const server = await startVigil({ VIGIL_READ_KEYS: READ_KEY });
  try {
    const rng = new SeededRandom(5);
    const bodies: string[] = [];
    const total = series * pointsPerSeries;
    let metrics: unknown[] = [];
    // Time-ordered, every series advancing together (as live traffic would).
    for (let index = 0; index < pointsPerSeries; index++) {
      for (let member = 0; member < series; member++) {
        metrics.push({ name: `bench.metric_${member % 10}`, value: 50 + 5 * rng.nextGaussian(), timestamp: T0 + index * STEP_MS, tags: { host: `h${member}` } });
        if (metrics.length === batch) {
          bodies.push(JSON.stringify({ metrics }));
          metrics = [];
        }
      }
    }
    if (metrics.length > 0) bodies.push(JSON.stringify({ metrics }));
    let next = 0;
    const start = performance.now();
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        const response = await fetch(`${server.url}/ingest/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` }, body });
        if (response.status !== 202) throw new Error(`ingest answered ${response.status}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    const ingestSeconds = (performance.now() - start) / 1000;
    const acknowledged = performance.now();
    let processed = 0;
    while (processed < total) {
      const response = await fetch(`${server.url}/anomalies/report`, { headers: { authorization: `Bearer ${READ_KEY}` } });
      processed = ((await response.json()) as { total_points_processed: number }).total_points_processed;
      if (processed < total) await new Promise((resolve) => setTimeout(resolve, 20));
      if (performance.now() - acknowledged > 300_000) throw new Error(`detection did not catch up: ${processed} of ${total}`);
    }
    const lagMs = performance.now() - acknowledged;
    return { total, ingestPerSecond: total / ingestSeconds, lagMs, endToEndPerSecond: total / (ingestSeconds + lagMs / 1000) };
  } finally {
    await server.stop();
  }
}

export async function run(): Promise<BenchSection> {
  const rows: BenchSection['rows'] = [];
  rows.push({ name: 'SeriesDetector.observe() alone (one series, past its warm-up)', value: Math.round(detectorAlone()), unit: 'points/s' });
  const result = await ingestWithDetection(100, 2000, 5000, 4);
  rows.push({
    name: `POST /ingest/metrics with detection on (${result.total.toLocaleString('en')} points, 100 series, 5,000-point batches, 4 connections)`,
    value: Math.round(result.ingestPerSecond),
    unit: 'points/s',
    note: 'time to the last 202',
  });
  rows.push({
    name: 'Detection lag: last 202 until /anomalies/report total_points_processed equals the points sent',
    value: round(result.lagMs, 0),
    unit: 'ms',
    note: `end to end ${Math.round(result.endToEndPerSecond)} points/s; detection keeps up when the lag stays small and does not grow with the run`,
  });
  return { title: 'Anomaly detection', rows };
}
