import type { BenchOptions, BenchRow, BenchSection } from './bench-section.js';
import { BENCH_KEY, load, memoryPartsMebibytes, peakResidentMebibytes, processCpuSeconds, round, startBareFastify, startVigil, waitForConsumers, type LoadResult, metricsBody, median } from './bench-support.js';

const SECONDS = 5;

function logsBody(count: number): string {
  const now = Date.now();
  return JSON.stringify({
    logs: Array.from({ length: count }, (_, index) => ({ message: 'GET /users 200', level: 'info', service: 'api', timestamp: now, traceId: `t${index}` })),
  });
}

const ROUNDS = 3;
/** Connections the batch rounds run at: the issue's aims are set at both. */
const BATCH_CONNECTIONS = [10, 50] as const;
/** The last round: Vigil alone under 1000-point batches this long, for the peak of resident memory. */
const SUSTAINED_SECONDS = 30;

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
  type BatchRounds = Record<'bare' | 'vigil' | 'previous', LoadResult[]>;
  const rounds: Record<'bareSingle' | 'vigilSingle' | 'previousSingle' | 'vigilLogBatch', LoadResult[]> = {
    previousSingle: [],
    bareSingle: [],
    vigilSingle: [],
    vigilLogBatch: [],
  };
  const batchRounds = new Map<number, BatchRounds>(BATCH_CONNECTIONS.map((connections) => [connections, { bare: [], vigil: [], previous: [] }]));
  /**
   * Per batch round: the server's CPU µs a point from the start of the load until its consumers had
   * applied everything (what it defers past the load is counted too, unlike the load's own figure).
   */
  const untilAppliedMicroseconds = new Map<string, number[]>();
  const loadUntilApplied = async (server: { url: string; process: { pid?: number } }, key: string, connections: number, options: { headers?: Record<string, string>; serverPid?: number }) => {
    const cpuBefore = processCpuSeconds(server.process.pid);
    const result = await load(server.url, '/ingest/metrics', batch, { connections, seconds: SECONDS, ...options });
    const caughtUp = await waitForConsumers(server.url);
    const cpuAfter = processCpuSeconds(server.process.pid);
    if (cpuBefore !== undefined && cpuAfter !== undefined && result.requestsPerSecond > 0) {
      const list = untilAppliedMicroseconds.get(`${key}/${connections}`) ?? [];
      list.push(((cpuAfter - cpuBefore) * 1e6) / (result.requestsPerSecond * 1000 * SECONDS));
      untilAppliedMicroseconds.set(`${key}/${connections}`, list);
    }
    return { result, caughtUp };
  };
  const untilApplied = (key: string, connections: number) => {
    const list = untilAppliedMicroseconds.get(`${key}/${connections}`);
    return list === undefined ? '' : `; ${round(median(list), 1)} µs a point until its consumers had applied the round`;
  };
  /** Per batch round at 10 connections: how long the consumers took, after the load stopped, to apply all of it. */
  const catchUpSeconds: number[] = [];
  let sustainedRound: { result: LoadResult; catchUpSeconds: number } | undefined;
  let afterSustained: Record<string, number> = {};
  let peakMebibytes: { bare: number | undefined; vigil: number | undefined; previous: number | undefined } = { bare: undefined, vigil: undefined, previous: undefined };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rounds.bareSingle.push(await load(bare.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...bareOptions }));
      rounds.vigilSingle.push(await load(vigil.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...vigilOptions }));
      if (previous) rounds.previousSingle.push(await load(previous.url, '/ingest/metrics', single, { connections: 50, seconds: SECONDS, ...previousOptions }));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const connections of BATCH_CONNECTIONS) {
        const batches = batchRounds.get(connections)!;
        batches.bare.push(await load(bare.url, '/ingest/metrics', batch, { connections, seconds: SECONDS, ...bareOptions }));
        const vigilRound = await loadUntilApplied(vigil, 'vigil', connections, vigilOptions);
        batches.vigil.push(vigilRound.result);
        if (connections === BATCH_CONNECTIONS[0]) catchUpSeconds.push(vigilRound.caughtUp);
        if (previous) batches.previous.push((await loadUntilApplied(previous, 'previous', connections, previousOptions)).result);
      }
      rounds.vigilLogBatch.push(await load(vigil.url, '/ingest/logs', logBatch, { connections: 10, seconds: SECONDS, ...vigilOptions }));
    }
    const sustained = await load(vigil.url, '/ingest/metrics', batch, { connections: 10, seconds: SUSTAINED_SECONDS, ...vigilOptions });
    // Sampled as the load stops, before the consumers catch up: where the resident memory is.
    afterSustained = await memoryPartsMebibytes(vigil.url, vigil.process.pid);
    sustainedRound = { result: sustained, catchUpSeconds: await waitForConsumers(vigil.url) };
    if (previous) {
      await load(previous.url, '/ingest/metrics', batch, { connections: 10, seconds: SUSTAINED_SECONDS, ...previousOptions });
      await waitForConsumers(previous.url);
    }
    peakMebibytes = { bare: peakResidentMebibytes(bare.process.pid), vigil: peakResidentMebibytes(vigil.process.pid), previous: peakResidentMebibytes(previous?.process.pid) };
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
  const batchSummaries = (connections: number) => {
    const batches = batchRounds.get(connections)!;
    return { bare: summary(batches.bare), vigil: summary(batches.vigil), previous: previous ? summary(batches.previous) : undefined };
  };
  const bareBatch = batchSummaries(BATCH_CONNECTIONS[0]).bare;
  const vigilLogBatch = summary(rounds.vigilLogBatch);
  // Points of the round over the time from its start until every consumer had applied them.
  const sustained = median(batchRounds.get(BATCH_CONNECTIONS[0])!.vigil.map((result, index) => (result.requestsPerSecond * 1000 * SECONDS) / (SECONDS + catchUpSeconds[index]!)));
  const memoryParts = (parts: Record<string, number>) => {
    const entries = Object.entries(parts);
    return entries.length === 0 ? '' : `; as the ${SUSTAINED_SECONDS} s round stopped, MiB: ${entries.map(([part, mebibytes]) => `${part} ${round(mebibytes, 0)}`).join(', ')}`;
  };
  const failures = (result: { failures: number }) => (result.failures > 0 ? `; ${result.failures} non-2xx or errors` : '');
  const previousRows = (): BenchRow[] => {
    if (!previous) return [];
    const previousSingle = summary(rounds.previousSingle);
    return [
      {
        name: `previous build (${options.previousMain}): single-item POST /ingest/metrics`,
        value: round(previousSingle.requestsPerSecond, 0),
        unit: 'req/s',
        ratio: round(previousSingle.requestsPerSecond / bareSingle.requestsPerSecond),
        note: `this build / previous: ${round(vigilSingle.requestsPerSecond / previousSingle.requestsPerSecond)}${cpu(previousSingle, 1, 'request')}`,
      },
      ...BATCH_CONNECTIONS.map((connections) => {
        const batches = batchSummaries(connections);
        return {
          name: `previous build: 1000-point batches POST /ingest/metrics, ${connections} connections`,
          value: round(batches.previous!.requestsPerSecond * 1000, 0),
          unit: 'points/s',
          ratio: round(batches.previous!.requestsPerSecond / batches.bare.requestsPerSecond),
          note: `this build / previous: ${round(batches.vigil.requestsPerSecond / batches.previous!.requestsPerSecond)}${cpu(batches.previous!, 1000, 'point')}${untilApplied('previous', connections)}`,
        };
      }),
    ];
  };
  const batchRows = (): BenchRow[] =>
    BATCH_CONNECTIONS.flatMap((connections) => {
      const batches = batchSummaries(connections);
      return [
        { name: `bare Fastify: 1000-point batches, ${connections} connections`, value: round(batches.bare.requestsPerSecond * 1000, 0), unit: 'points/s', note: `p99 ${batches.bare.p99Ms} ms${cpu(batches.bare, 1000, 'point')}` },
        {
          name: `Vigil: 1000-point batches POST /ingest/metrics, ${connections} connections`,
          value: round(batches.vigil.requestsPerSecond * 1000, 0),
          unit: 'points/s',
          ratio: round(batches.vigil.requestsPerSecond / batches.bare.requestsPerSecond),
          target: 'ratio ≥ 0.25',
          note: `p99 ${batches.vigil.p99Ms} ms${cpu(batches.vigil, 1000, 'point')}${untilApplied('vigil', connections)}; anomaly detection and re-exposition of every point share the process${failures(batches.vigil)}`,
        },
      ];
    });
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
      ...batchRows(),
      {
        name: 'Vigil: the same 1000-point batches, counted until SLA, anomaly and analytics consumers had applied them all',
        value: round(sustained, 0),
        unit: 'points/s',
        ratio: round(sustained / (bareBatch.requestsPerSecond * 1000)),
        note: `consumers finished ${round(median(catchUpSeconds), 1)} s (median) after the ${SECONDS} s load stopped: ingest does not wait for them, so this is the rate derived state keeps up with`,
      },
      ...(sustainedRound
        ? [{
            name: `Vigil: 1000-point batches for ${SUSTAINED_SECONDS} s, 10 connections (the last round)`,
            value: round(sustainedRound.result.requestsPerSecond * 1000, 0),
            unit: 'points/s',
            note: `consumers finished ${round(sustainedRound.catchUpSeconds, 1)} s after the load stopped${cpu(summary([sustainedRound.result]), 1000, 'point')}${failures(summary([sustainedRound.result]))}`,
          }]
        : []),
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
            name: 'Vigil: peak resident memory over every round above (VmHWM)',
            value: round(peakMebibytes.vigil, 0),
            unit: 'MiB',
            ratio: round(peakMebibytes.vigil / peakMebibytes.bare),
            target: '≤ 384 MiB (the default VIGIL_MEMORY_BUDGET_MB)',
            note: `bare Fastify ${round(peakMebibytes.bare, 0)} MiB${peakMebibytes.previous === undefined ? '' : `; previous build ${round(peakMebibytes.previous, 0)} MiB`}; each build runs with the Node flags of its npm run start:prod${memoryParts(afterSustained)}`,
          }]
        : []),
    ],
  };
}
