import type { BenchOptions, BenchSection } from './bench-section.js';
import { BENCH_KEY, load, round, startVigil, waitForConsumers, type LoadResult, type Server, metricsBody, median, freshPostgresSchema, BENCH_POSTGRES_URL } from './bench-support.js';

const SECONDS = 5;
const ROUNDS = 3;
/**
 * The same Vigil build on SQLite and on Postgres (a fresh schema in the Postgres at
 * VIGIL_BENCH_POSTGRES_URL, default the local one), loaded in alternating rounds: 1000-point
 * batches at 10 connections and single items at 50, each round followed by the wait until every
 * consumer has applied it. Postgres runs on the same two cores as Vigil and the load generator,
 * so its CPU is part of what a point costs here.
 */
export async function run(_options: BenchOptions = {}): Promise<BenchSection> {
  const title = `Postgres against SQLite (autocannon, median of ${ROUNDS} alternating ${SECONDS}s rounds, the same build)`;
  const schema = await freshPostgresSchema(`bench_${process.pid}_${Date.now().toString(36)}`);
  if ('problem' in schema) return { title, rows: [{ name: `skipped: no Postgres answers at ${BENCH_POSTGRES_URL} (${schema.problem})`, value: 0, unit: '' }] };
  const headers = { authorization: `Bearer ${BENCH_KEY}` };
  const single = metricsBody(1);
  const batch = metricsBody(1000);
  const servers: Server[] = [];
  const results = { sqliteBatch: [] as LoadResult[], postgresBatch: [] as LoadResult[], sqliteSingle: [] as LoadResult[], postgresSingle: [] as LoadResult[] };
  const catchUp = { sqlite: [] as number[], postgres: [] as number[] };
  try {
    const sqlite = await startVigil();
    servers.push(sqlite);
    const postgres = await startVigil({ DATABASE_URL: schema.url });
    servers.push(postgres);
    const options = (server: Server, connections: number) => ({ connections, seconds: SECONDS, headers, serverPid: server.process.pid });
    for (let round = 0; round < ROUNDS; round++) {
      results.sqliteBatch.push(await load(sqlite.url, '/ingest/metrics', batch, options(sqlite, 10)));
      catchUp.sqlite.push(await waitForConsumers(sqlite.url));
      results.postgresBatch.push(await load(postgres.url, '/ingest/metrics', batch, options(postgres, 10)));
      catchUp.postgres.push(await waitForConsumers(postgres.url));
    }
    for (let round = 0; round < ROUNDS; round++) {
      results.sqliteSingle.push(await load(sqlite.url, '/ingest/metrics', single, options(sqlite, 50)));
      results.postgresSingle.push(await load(postgres.url, '/ingest/metrics', single, options(postgres, 50)));
      await waitForConsumers(sqlite.url);
      await waitForConsumers(postgres.url);
    }
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    await schema.drop().catch(() => undefined);
  }
  const rate = (rounds: LoadResult[]) => median(rounds.map((result) => result.requestsPerSecond));
  const cpu = (rounds: LoadResult[], items: number) =>
    rounds.every((result) => result.serverCores !== undefined) ? `; Vigil CPU ${round(median(rounds.map((result) => (result.serverCores! * 1e6) / result.requestsPerSecond / items)), 1)} µs per item` : '';
  const failures = (rounds: LoadResult[]) => {
    const count = rounds.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
    return count > 0 ? `; ${count} non-2xx or errors` : '';
  };
  const sqliteBatch = rate(results.sqliteBatch) * 1000;
  const postgresBatch = rate(results.postgresBatch) * 1000;
  const sqliteSingle = rate(results.sqliteSingle);
  const postgresSingle = rate(results.postgresSingle);
  return {
    title,
    rows: [
      { name: 'SQLite: 1000-point batches', value: round(sqliteBatch, 0), unit: 'points/s', note: `consumers caught up ${round(median(catchUp.sqlite), 1)} s after the load${cpu(results.sqliteBatch, 1000)}${failures(results.sqliteBatch)}` },
      {
        name: 'Postgres: 1000-point batches',
        value: round(postgresBatch, 0),
        unit: 'points/s',
        ratio: round(postgresBatch / sqliteBatch),
        target: 'ratio to SQLite ≥ 0.5',
        note: `consumers caught up ${round(median(catchUp.postgres), 1)} s after the load${cpu(results.postgresBatch, 1000)}${failures(results.postgresBatch)}`,
      },
      { name: 'SQLite: single-item POST', value: round(sqliteSingle, 0), unit: 'req/s', note: `${cpu(results.sqliteSingle, 1).slice(2)}${failures(results.sqliteSingle)}` },
      {
        name: 'Postgres: single-item POST',
        value: round(postgresSingle, 0),
        unit: 'req/s',
        ratio: round(postgresSingle / sqliteSingle),
        note: `${cpu(results.postgresSingle, 1).slice(2)}${failures(results.postgresSingle)}`,
      },
    ],
  };
}
