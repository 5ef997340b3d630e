import { OTLP_SIGNALS } from '../src/intakes/otlp/otlp.proto.js';
import type { BenchOptions, BenchSection } from './bench-section.js';
import { BENCH_KEY, load, median, round, startVigil, waitForConsumers, type LoadResult } from './bench-support.js';

const SECONDS = 5;
const ROUNDS = 3;
const BATCH = 1000;

const nanos = (epochMs: number) => String(BigInt(epochMs) * 1_000_000n);
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] };

/** The same 1000 gauge points as the ingest section's JSON batch, as an OTLP protobuf export. */
function metricsExport(now: number): Buffer {
  const dataPoints = Array.from({ length: BATCH }, (_, index) => ({
    timeUnixNano: nanos(now),
    asDouble: 100 + (index % 17),
    attributes: [
      { key: 'host', value: { stringValue: `h${index % 10}` } },
      { key: 'endpoint', value: { stringValue: '/users' } },
    ],
  }));
  const type = OTLP_SIGNALS.metrics.request;
  return Buffer.from(type.encode(type.fromObject({ resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'bench.latency', gauge: { dataPoints } }] }] }] })).finish());
}

function metricsJson(now: number): string {
  return JSON.stringify({
    metrics: Array.from({ length: BATCH }, (_, index) => ({ name: 'bench.latency', value: 100 + (index % 17), type: 'gauge', timestamp: now, tags: { service: 'api', host: `h${index % 10}`, endpoint: '/users' } })),
  });
}

/** 1000 SERVER spans (each a request item), as an OTLP protobuf export. */
function tracesExport(now: number): Buffer {
  const spans = Array.from({ length: BATCH }, (_, index) => ({
    traceId: Buffer.alloc(16, (index % 250) + 1),
    spanId: Buffer.from(index.toString(16).padStart(16, '0'), 'hex'),
    name: 'GET /users',
    kind: 2,
    startTimeUnixNano: nanos(now - 20 - (index % 50)),
    endTimeUnixNano: nanos(now),
    attributes: [
      { key: 'http.route', value: { stringValue: '/users' } },
      { key: 'http.request.method', value: { stringValue: 'GET' } },
      { key: 'http.response.status_code', value: { intValue: index % 100 === 0 ? 500 : 200 } },
    ],
  }));
  const type = OTLP_SIGNALS.traces.request;
  return Buffer.from(type.encode(type.fromObject({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] })).finish());
}

function requestsJson(now: number): string {
  return JSON.stringify({
    requests: Array.from({ length: BATCH }, (_, index) => ({ service: 'api', operation: 'GET /users', durationMs: 20 + (index % 50), statusCode: index % 100 === 0 ? 500 : 200, timestamp: now })),
  });
}

/**
 * OTLP/HTTP protobuf exports against the JSON endpoints carrying the same items, on one Vigil,
 * in alternating rounds (median reported): 1000-point metric exports vs POST /ingest/metrics,
 * 1000-span trace exports (server spans → requests) vs POST /ingest/requests. With `--previous`,
 * the earlier build runs beside it and takes the same protobuf exports in the same rounds; its rows
 * give this build's rate and server CPU per item against it.
 */
export async function run(options: BenchOptions = {}): Promise<BenchSection> {
  const now = Date.now();
  const vigil = await startVigil();
  const previous = options.previousMain ? await startVigil({}, options.previousMain) : undefined;
  const json = { headers: { authorization: `Bearer ${BENCH_KEY}` }, serverPid: vigil.process.pid };
  const protobufHeaders = { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/x-protobuf' };
  const protobuf = { headers: protobufHeaders, serverPid: vigil.process.pid };
  const previousProtobuf = { headers: protobufHeaders, serverPid: previous?.process.pid };
  const bodies = { metricsProto: metricsExport(now), metricsJson: metricsJson(now), tracesProto: tracesExport(now), requestsJson: requestsJson(now) };
  type Rounds = 'metricsProto' | 'metricsJson' | 'tracesProto' | 'requestsJson' | 'previousMetricsProto' | 'previousTracesProto';
  const rounds: Record<Rounds, LoadResult[]> = { metricsProto: [], metricsJson: [], tracesProto: [], requestsJson: [], previousMetricsProto: [], previousTracesProto: [] };
  const settle = async () => {
    await waitForConsumers(vigil.url);
    if (previous) await waitForConsumers(previous.url);
  };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rounds.metricsJson.push(await load(vigil.url, '/ingest/metrics', bodies.metricsJson, { connections: 10, seconds: SECONDS, ...json }));
      rounds.metricsProto.push(await load(vigil.url, '/v1/metrics', bodies.metricsProto, { connections: 10, seconds: SECONDS, ...protobuf }));
      if (previous) rounds.previousMetricsProto.push(await load(previous.url, '/v1/metrics', bodies.metricsProto, { connections: 10, seconds: SECONDS, ...previousProtobuf }));
      await settle();
      rounds.requestsJson.push(await load(vigil.url, '/ingest/requests', bodies.requestsJson, { connections: 10, seconds: SECONDS, ...json }));
      rounds.tracesProto.push(await load(vigil.url, '/v1/traces', bodies.tracesProto, { connections: 10, seconds: SECONDS, ...protobuf }));
      if (previous) rounds.previousTracesProto.push(await load(previous.url, '/v1/traces', bodies.tracesProto, { connections: 10, seconds: SECONDS, ...previousProtobuf }));
      await settle();
    }
  } finally {
    await Promise.all([vigil.stop(), previous?.stop()]);
  }
  const rate = (results: LoadResult[]) => median(results.map((result) => result.requestsPerSecond)) * BATCH;
  const cpuPerItem = (results: LoadResult[]) =>
    results.every((result) => result.serverCores !== undefined) ? median(results.map((result) => (result.serverCores! * 1e6) / (result.requestsPerSecond * BATCH))) : undefined;
  const row = (name: string, results: LoadResult[], unit: string, reference?: LoadResult[], target?: string, extra: string[] = []) => {
    const failures = results.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
    const cpu = cpuPerItem(results);
    const notes = [
      `p99 ${median(results.map((result) => result.p99Ms))} ms`,
      ...(cpu === undefined ? [] : [`server CPU ${round(cpu, 1)} µs per item`]),
      ...extra,
      ...(failures > 0 ? [`${failures} non-2xx or errors`] : []),
    ];
    return {
      name,
      value: round(rate(results), 0),
      unit,
      ...(reference ? { ratio: round(rate(results) / rate(reference)) } : {}),
      ...(target ? { target } : {}),
      note: notes.join('; '),
    };
  };
  /** This build against the previous one: rates, and server CPU per item (the steadier of the two on a shared machine). */
  const againstPrevious = (results: LoadResult[], previousResults: LoadResult[]) => {
    const cpu = cpuPerItem(results);
    const previousCpu = cpuPerItem(previousResults);
    return [
      `this build / previous: ${round(rate(results) / rate(previousResults))} the rate`,
      ...(cpu === undefined || previousCpu === undefined ? [] : [`${round(cpu / previousCpu)} the server CPU per item`]),
    ];
  };
  const previousRows = previous
    ? [
        row(`previous build (${options.previousMain}): OTLP protobuf 1000-point gauge exports`, rounds.previousMetricsProto, 'points/s', rounds.metricsJson, undefined, againstPrevious(rounds.metricsProto, rounds.previousMetricsProto)),
        row('previous build: OTLP protobuf 1000-span exports', rounds.previousTracesProto, 'spans/s', rounds.requestsJson, undefined, againstPrevious(rounds.tracesProto, rounds.previousTracesProto)),
      ]
    : [];
  return {
    title: `OTLP (autocannon, 10 connections, median of ${ROUNDS} alternating ${SECONDS}s rounds on one Vigil; ratio = OTLP / the JSON endpoint${previous ? '; the previous build runs beside it in the same rounds' : ''})`,
    rows: [
      row('JSON: 1000-point batches POST /ingest/metrics', rounds.metricsJson, 'points/s'),
      row('OTLP protobuf: 1000-point gauge exports POST /v1/metrics', rounds.metricsProto, 'points/s', rounds.metricsJson, '≥ 250000 points/s'),
      row('JSON: 1000-request batches POST /ingest/requests', rounds.requestsJson, 'requests/s'),
      row('OTLP protobuf: 1000-span exports POST /v1/traces (server spans → requests)', rounds.tracesProto, 'spans/s', rounds.requestsJson, '≥ 100000 spans/s'),
      ...previousRows,
    ],
  };
}
