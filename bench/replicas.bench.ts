import autocannon from 'autocannon';
import type { BenchRow, BenchSection } from './bench-section.js';
import { BENCH_KEY, round, startVigil, waitForConsumers, type Server, metricsBody, processCpuSeconds, freshPostgresSchema, BENCH_POSTGRES_URL } from './bench-support.js';

/**
 * Replicas on one Postgres (issue 24): POST /ingest/metrics on 1, 2 and 3 Vigil processes
 * sharing one store, the load spread round-robin over them (autocannon hands its connections to
 * the URLs in turn: 12 connections, so each replica gets the same number), 1000-point batches
 * and single items; then how long the derived-state consumers (SLA, anomalies, analytics; any
 * replica runs each, one at a time) take to apply everything after the load stops. CPU is that
 * of every replica together, per point. Each replica count gets a fresh Postgres schema.
 * Without a Postgres that answers, the section prints a note and measures nothing.
 */

const SECONDS = 10;
const CONNECTIONS = 12;
const REPLICA_COUNTS = [1, 2, 3] as const;

interface Phase {
  requestsPerSecond: number;
  non2xx: number;
  errors: number;
  /** CPU seconds of all replicas together per second of load. */
  cores: number;
  /** Seconds from the load's end until every consumer had applied all of it. */
  catchUpSeconds: number;
}

async function phase(replicas: Server[], body: string): Promise<Phase> {
  const cpuBefore = replicas.reduce((sum, replica) => sum + (processCpuSeconds(replica.process.pid) ?? 0), 0);
  const started = performance.now();
  const result = await autocannon({
    url: replicas.map((replica) => `${replica.url}/ingest/metrics`),
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_KEY}` },
    body,
  });
  const elapsed = (performance.now() - started) / 1000;
  const cores = (replicas.reduce((sum, replica) => sum + (processCpuSeconds(replica.process.pid) ?? 0), 0) - cpuBefore) / elapsed;
  const catchUpSeconds = await waitForConsumers(replicas[0]!.url, 900);
  return { requestsPerSecond: result.requests.average, non2xx: result.non2xx, errors: result.errors, cores, catchUpSeconds };
}

export async function run(): Promise<BenchSection> {
  const title = 'Replicas on one Postgres: throughput of 1, 2, 3 replicas, consumers catching up';
  const rows: BenchRow[] = [];
  const batch = metricsBody(1000);
  const single = metricsBody(1);
  for (const count of REPLICA_COUNTS) {
    const schema = await freshPostgresSchema(`bench_replicas_${process.pid}_${count}`);
    if ('problem' in schema) {
      return { title, rows: [{ name: `skipped: no Postgres at ${BENCH_POSTGRES_URL} (${schema.problem}); set VIGIL_BENCH_POSTGRES_URL`, value: 0, unit: '' }] };
    }
    const databaseUrl = schema.url;
    const replicas: Server[] = [];
    try {
      // The first migrates; the others then start on the migrated schema.
      replicas.push(await startVigil({ DATABASE_URL: databaseUrl }));
      replicas.push(...(await Promise.all(Array.from({ length: count - 1 }, () => startVigil({ DATABASE_URL: databaseUrl })))));
      const batches = await phase(replicas, batch);
      const singles = await phase(replicas, single);
      const label = `${count} replica${count === 1 ? '' : 's'}`;
      const failures = (result: Phase) => (result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : '');
      rows.push(
        {
          name: `${label}, 1000-point batches`,
          value: Math.round(batches.requestsPerSecond * 1000),
          unit: 'points/s',
          note: `${round(batches.cores)} cores of the replicas together, ${round((batches.cores / (batches.requestsPerSecond * 1000)) * 1e6)} µs CPU/point${failures(batches)}`,
        },
        { name: `${label}, consumers caught up after the batches`, value: round(batches.catchUpSeconds, 1), unit: 's' },
        {
          name: `${label}, single items`,
          value: Math.round(singles.requestsPerSecond),
          unit: 'req/s',
          note: `${round(singles.cores)} cores, ${round((singles.cores / singles.requestsPerSecond) * 1e6)} µs CPU/request${failures(singles)}`,
        },
        { name: `${label}, consumers caught up after the single items`, value: round(singles.catchUpSeconds, 1), unit: 's' },
      );
    } finally {
      await Promise.all(replicas.map((replica) => replica.stop()));
      await schema.drop();
    }
  }
  return { title, rows };
}
