import type { BenchOptions, BenchRow, BenchSection } from './bench-section.js';
import { BENCH_KEY, load, peakResidentMebibytes, round, startBareFastify, startVigil, waitForConsumers, type LoadResult } from './bench-support.js';

const SECONDS = 5;

function logsBody(count: number): string {
  const now = Date.now();
  return JSON.stringify({
    logs: Array.from({ length: count }, (_, index) => ({ message: 'GET /users 200', level: 'info', service: 'api', timestamp: now, traceId: `t${index}` })),
  });
}

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

const ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * POST /ingest/metrics on Vigil (auth, validation, durable group commit, every
 * consumer running) against the bare Fastify baseline, with the same generator.
 * Both servers run side by side and are loaded in alternating rounds; the median
 * round of each is reported, so a passing disturbance on this shared machine
 * moves both alike. With `--previous`, an earlier build runs beside them in the same rounds.
 */
export async function run(options: BenchOptions = {}): Promise<BenchSection> {
  const single = metricsBody(1);
  const batch = metricsBody(1000);
  const headers = { authorization: `Bearer ${BENCH_KEY}` };
  const bare = await startBareFastify();
  const vigil = await startVigil();
  const previous = options.previousMain ? await startVigil({}, options.previousMain) : undefined;
  const previousOptions = { headers, serverPid: previous?.process.pid };
  const bareOptions = { serverPid: bare.process.pid };
  const vigilOptions = { headers, serverPid: vigil.process.pid };
  const logBatch = logsBody(1000);
  const rounds: Record<'bareSingle' | 'vigilSingle' | 'previousSingle' | 'bareBatch' | 'vigilBatch' | 'previousBatch' | 'vigilLogBatch', LoadResult[]> = {
    previousSingle: [],
    previousBatch: [],
    bareSingle: [],
    vigilSingle: [],
    bareBatch: [],
    vigilBatch: [],
    vigilLogBatch: [],
  };
  /** Per batch round: how long the consumers took, after the load stopped, to apply all of it. */
  const catchUpSeconds: number[] = [];
  let peakMebibytes: { bare: number | undefined; vigil: number | undefined } = { bare: undefined, vigil: undefined };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bareSingle.push(await load(bare.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...bareOptions }));
      rounds.vigilSingle.push(await load(vigil.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...vigilOptions }));
      if (previous) rounds.previousSingle.push(await load(previous.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...previousOptions }));
    }
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bareBatch.push(await load(bare.url, '/ingest/metrics', batch, { connections: 10, seconds: SECONDS, ...bareOptions }));
      rounds.vigilBatch.push(await load(vigil.url, '/ingest/metrics', batch, { connections: 10, seconds: SECONDS, ...vigilOptions }));
      catchUpSeconds.push(await waitForConsumers(vigil.url));
      if (previous) {
        rounds.previousBatch.push(await load(previous.url, '/ingest/metrics', batch, { connections: 10, seconds: SECONDS, ...previousOptions }));
        await waitForConsumers(previous.url);
      }
      rounds.vigilLogBatch.push(await load(vigil.url, '/ingest/logs', logBatch, { connections: 10, seconds: SECONDS, ...vigilOptions }));
    }
    peakMebibytes = { bare: peakResidentMebibytes(bare.process.pid), vigil: peakResidentMebibytes(vigil.process.pid) };
  } finally {
    await Promise.all([bare.stop(), vigil.stop(), previous?.stop()]);
  }
  const summary = (results: LoadResult[]) => ({
    requestsPerSecond: median(results.map((result) => result.requestsPerSecond)),
    p99Ms: median(results.map((result) => result.p99Ms)),
    failures: results.reduce((sum, result) => sum + result.non2xx + result.errors, 0),
    // Median over rounds of the server's CPU microseconds per item (all its threads).
    cpuMicrosecondsPerItem: results.every((result) => result.serverCores !== undefined)
      ? median(results.map((result) => (result.serverCores! * 1e6) / result.requestsPerSecond))
      : undefined,
  });
  const cpu = (result: { cpuMicrosecondsPerItem: number | undefined }, itemsPerRequest: number, unit: string) =>
    result.cpuMicrosecondsPerItem === undefined ? '' : `; server CPU ${round(result.cpuMicrosecondsPerItem / itemsPerRequest, 1)} µs per ${unit}`;
  const bareSingle = summary(rounds.bareSingle);
  const vigilSingle = summary(rounds.vigilSingle);
  const bareBatch = summary(rounds.bareBatch);
  const vigilBatch = summary(rounds.vigilBatch);
  const vigilLogBatch = summary(rounds.vigilLogBatch);
  // Points of the round over the time from its start until every consumer had applied them.
  const sustained = median(rounds.vigilBatch.map((result, index) => (result.requestsPerSecond * 1000 * SECONDS) / (SECONDS + catchUpSeconds[index]!)));
  const failures = (result: { failures: number }) => (result.failures > 0 ? `; ${result.failures} non-2xx or errors` : '');
  const previousRows = (): BenchRow[] => {
    if (!previous) return [];
    const previousSingle = summary(rounds.previousSingle);
    const previousBatch = summary(rounds.previousBatch);
    return [
      {
        name: `previous build (${options.previousMain}): single-item POST /ingest/metrics`,
        value: round(previousSingle.requestsPerSecond, 0),
        unit: 'req/s',
        ratio: round(previousSingle.requestsPerSecond / bareSingle.requestsPerSecond),
        note: `this build / previous: ${round(vigilSingle.requestsPerSecond / previousSingle.requestsPerSecond)}${cpu(previousSingle, 1, 'request')}`,
      },
      {
        name: 'previous build: 1000-point batches POST /ingest/metrics',
        value: round(previousBatch.requestsPerSecond * 1000, 0),
        unit: 'points/s',
        ratio: round(previousBatch.requestsPerSecond / bareBatch.requestsPerSecond),
        note: `this build / previous: ${round(vigilBatch.requestsPerSecond / previousBatch.requestsPerSecond)}${cpu(previousBatch, 1000, 'point')}`,
      },
    ];
  };
  return {
    title: `Ingest (autocannon, median of ${ROUNDS} alternating ${SECONDS}s rounds; Vigil with auth, validation, durable SQLite commit and every consumer running)`,
    rows: [
      { name: 'bare Fastify: single-item POST', value: round(bareSingle.requestsPerSecond, 0), unit: 'req/s', note: `p99 ${bareSingle.p99Ms} ms${cpu(bareSingle, 1, 'request')}` },
      {
        name: 'Vigil: single-item POST /ingest/metrics',
        value: round(vigilSingle.requestsPerSecond, 0),
        unit: 'req/s',
        ratio: round(vigilSingle.requestsPerSecond / bareSingle.requestsPerSecond),
        target: 'ratio ≥ 0.4',
        note: `p99 ${vigilSingle.p99Ms} ms (bare ${bareSingle.p99Ms} ms)${cpu(vigilSingle, 1, 'request')}${failures(vigilSingle)}`,
      },
      { name: 'bare Fastify: 1000-point batches', value: round(bareBatch.requestsPerSecond * 1000, 0), unit: 'points/s', note: `p99 ${bareBatch.p99Ms} ms${cpu(bareBatch, 1000, 'point')}` },
      {
        name: 'Vigil: 1000-point batches POST /ingest/metrics',
        value: round(vigilBatch.requestsPerSecond * 1000, 0),
        unit: 'points/s',
        ratio: round(vigilBatch.requestsPerSecond / bareBatch.requestsPerSecond),
        target: '≥ 250000 points/s',
        note: `p99 ${vigilBatch.p99Ms} ms${cpu(vigilBatch, 1000, 'point')}; anomaly detection and re-exposition of every point share the thread${failures(vigilBatch)}`,
      },
      {
        name: 'Vigil: the same 1000-point batches, counted until SLA, anomaly and analytics consumers had applied them all',
        value: round(sustained, 0),
        unit: 'points/s',
        ratio: round(sustained / (bareBatch.requestsPerSecond * 1000)),
        note: `consumers finished ${round(median(catchUpSeconds), 1)} s (median) after the ${SECONDS} s load stopped: ingest does not wait for them, so this is the rate derived state keeps up with`,
      },
      {
        name: 'Vigil: 1000-log batches POST /ingest/logs (the ingest path alone: no log destination, so no consumer reads them)',
        value: round(vigilLogBatch.requestsPerSecond * 1000, 0),
        unit: 'items/s',
        ratio: round(vigilLogBatch.requestsPerSecond / bareBatch.requestsPerSecond),
        note: `p99 ${vigilLogBatch.p99Ms} ms${cpu(vigilLogBatch, 1000, 'item')}${failures(vigilLogBatch)}`,
      },
      ...previousRows(),
      ...(peakMebibytes.vigil !== undefined && peakMebibytes.bare !== undefined
        ? [{
            name: 'peak resident memory over every round above (VmHWM)',
            value: round(peakMebibytes.vigil, 0),
            unit: 'MiB',
            ratio: round(peakMebibytes.vigil / peakMebibytes.bare),
            note: `bare Fastify ${round(peakMebibytes.bare, 0)} MiB; Vigil runs with the Node flags of npm run start:prod`,
          }]
        : []),
    ],
  };
}
