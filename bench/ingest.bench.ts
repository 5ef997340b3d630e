import type { BenchSection } from './bench-section.js';
import { BENCH_KEY, load, round, startBareFastify, startVigil } from './bench-support.js';

const SECONDS = 10;

function metricsBody(count: number): string {
  const now = Date.now();
  return JSON.stringify({
    metrics: Array.from({ length: count }, (_, index) => ({
      name: 'bench.latency',
      value: 100 + (index % 17),
      type: 'gauge',
      timestamp: now,
      tags: { host: `h${index % 10}`, endpoint: '/users' },
    })),
  });
}

/**
 * POST /ingest/metrics on Vigil (auth, validation, durable group commit, every
 * consumer running) against the bare Fastify baseline, with the same generator.
 */
export async function run(): Promise<BenchSection> {
  const single = metricsBody(1);
  const batch = metricsBody(1000);
  const bare = await startBareFastify();
  let bareSingle;
  let bareBatch;
  try {
    bareSingle = await load(bare.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS });
    bareBatch = await load(bare.url, '/ingest/metrics', batch, { connections: 10, seconds: SECONDS });
  } finally {
    await bare.stop();
  }
  const vigil = await startVigil();
  let vigilSingle;
  let vigilBatch;
  const headers = { authorization: `Bearer ${BENCH_KEY}` };
  try {
    vigilSingle = await load(vigil.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, headers });
    vigilBatch = await load(vigil.url, '/ingest/metrics', batch, { connections: 10, seconds: SECONDS, headers });
  } finally {
    await vigil.stop();
  }
  const failures = (result: { non2xx: number; errors: number }) => (result.non2xx + result.errors > 0 ? `${result.non2xx} non-2xx, ${result.errors} errors` : undefined);
  return {
    title: `Ingest (autocannon, ${SECONDS}s per run; Vigil with auth, validation, durable SQLite commit)`,
    rows: [
      { name: 'bare Fastify: single-item POST', value: round(bareSingle.requestsPerSecond, 0), unit: 'req/s', note: `p99 ${bareSingle.p99Ms} ms` },
      {
        name: 'Vigil: single-item POST /ingest/metrics',
        value: round(vigilSingle.requestsPerSecond, 0),
        unit: 'req/s',
        ratio: round(vigilSingle.requestsPerSecond / bareSingle.requestsPerSecond),
        target: 'ratio ≥ 0.4',
        note: `p99 ${vigilSingle.p99Ms} ms (bare ${bareSingle.p99Ms} ms)${failures(vigilSingle) ? `; ${failures(vigilSingle)}` : ''}`,
      },
      { name: 'bare Fastify: 1000-point batches', value: round(bareBatch.requestsPerSecond * 1000, 0), unit: 'points/s', note: `p99 ${bareBatch.p99Ms} ms` },
      {
        name: 'Vigil: 1000-point batches POST /ingest/metrics',
        value: round(vigilBatch.requestsPerSecond * 1000, 0),
        unit: 'points/s',
        ratio: round(vigilBatch.requestsPerSecond / bareBatch.requestsPerSecond),
        target: '≥ 250000 points/s',
        note: `p99 ${vigilBatch.p99Ms} ms${failures(vigilBatch) ? `; ${failures(vigilBatch)}` : ''}`,
      },
    ],
  };
}
