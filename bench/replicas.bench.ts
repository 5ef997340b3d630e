import autocannon from 'autocannon';
import type { BenchOptions, BenchRow, BenchSection } from './bench-section.js';
import { BENCH_KEY, round, startVigil, waitForConsumers, type Server, metricsBody, processCpuSeconds, freshPostgresSchema, BENCH_POSTGRES_URL } from './bench-support.js';

/**
 * Replicas on one Postgres (issue 24): POST /ingest/metrics on 1, 2 and 3 Vigil processes
 * sharing one store, the load spread round-robin over them (autocannon hands its connections to
 * the URLs in turn: 12 connections, so each replica gets the same number), 1000-point batches
 * and single items; then how long the derived-state consumers (SLA, anomalies, analytics; any
 * replica runs each, one at a time) take to apply everything after the load stops. CPU is that
 * of every replica together, per point. Each replica count gets a fresh Postgres schema.
 * `--previous=<checkout>`: the earlier build measured the same way, alternated (see run()).
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

/** One replica count of one build on a fresh schema: batches, then single items. */
async function measure(count: number, mainJs: string | undefined): Promise<{ batches: Phase; singles: Phase } | { problem: string }> {
  const schema = await freshPostgresSchema(`bench_replicas_${process.pid}_${count}_${Date.now().toString(36)}`);
  if ('problem' in schema) return schema;
  const replicas: Server[] = [];
  try {
    // The first migrates; the others then start on the migrated schema.
    replicas.push(await startVigil({ DATABASE_URL: schema.url }, mainJs));
    replicas.push(...(await Promise.all(Array.from({ length: count - 1 }, () => startVigil({ DATABASE_URL: schema.url }, mainJs)))));
    const batches = await phase(replicas, metricsBody(1000));
    const singles = await phase(replicas, metricsBody(1));
    return { batches, singles };
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await schema.drop();
  }
}

/**
 * With `--previous`, each replica count runs the previous build too, right before or after this
 * one (the order alternating between counts), and the rows of this build give its ratio to it.
 */
export async function run(options: BenchOptions = {}): Promise<BenchSection> {
  const title = 'Replicas on one Postgres: throughput of 1, 2, 3 replicas, consumers catching up';
  const rows: BenchRow[] = [];
  const failures = (result: Phase) => (result.non2xx + result.errors > 0 ? `, ${result.non2xx} non-2xx, ${result.errors} errors` : '');
  for (const [index, count] of REPLICA_COUNTS.entries()) {
    const builds: Array<{ label: string; mainJs: string | undefined }> = [{ label: '', mainJs: undefined }];
    if (options.previousMain) builds[index % 2 === 0 ? 'push' : 'unshift']({ label: 'previous build, ', mainJs: options.previousMain });
    const results = new Map<string, { batches: Phase; singles: Phase }>();
    for (const build of builds) {
      const result = await measure(count, build.mainJs);
      if ('problem' in result) {
        return { title, rows: [{ name: `skipped: no Postgres at ${BENCH_POSTGRES_URL} (${result.problem}); set VIGIL_BENCH_POSTGRES_URL`, value: 0, unit: '' }] };
      }
      results.set(build.label, result);
    }
    const previous = results.get('previous build, ');
    for (const [label, { batches, singles }] of results) {
      const name = `${label}${count} replica${count === 1 ? '' : 's'}`;
      const ratio = (mine: Phase, theirs: Phase | undefined) => (label === '' && theirs ? { ratio: round(mine.requestsPerSecond / theirs.requestsPerSecond) } : {});
      rows.push(
        {
          name: `${name}, 1000-point batches`,
          value: Math.round(batches.requestsPerSecond * 1000),
          unit: 'points/s',
          ...ratio(batches, previous?.batches),
          note: `${round(batches.cores)} cores of the replicas together, ${round((batches.cores / (batches.requestsPerSecond * 1000)) * 1e6)} µs CPU/point${failures(batches)}`,
        },
        { name: `${name}, consumers caught up after the batches`, value: round(batches.catchUpSeconds, 1), unit: 's' },
        {
          name: `${name}, single items`,
          value: Math.round(singles.requestsPerSecond),
          unit: 'req/s',
          ...ratio(singles, previous?.singles),
          note: `${round(singles.cores)} cores, ${round((singles.cores / singles.requestsPerSecond) * 1e6)} µs CPU/request${failures(singles)}`,
        },
        { name: `${name}, consumers caught up after the single items`, value: round(singles.catchUpSeconds, 1), unit: 's' },
      );
    }
  }
  return { title, rows };
}
