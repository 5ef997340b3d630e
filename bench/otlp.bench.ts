import { OTLP_SIGNALS } from '../src/intakes/otlp/otlp.proto.js';
import type { BenchSection } from './bench-section.js';
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
 * 1000-span trace exports (server spans → requests) vs POST /ingest/requests.
 */
export async function run(): Promise<BenchSection> {
  const now = Date.now();
  const vigil = await startVigil();
  const json = { headers: { authorization: `Bearer ${BENCH_KEY}` }, serverPid: vigil.process.pid };
  const protobuf = { headers: { authorization: `Bearer ${BENCH_KEY}`, 'content-type': 'application/x-protobuf' }, serverPid: vigil.process.pid };
  const bodies = { metricsProto: metricsExport(now), metricsJson: metricsJson(now), tracesProto: tracesExport(now), requestsJson: requestsJson(now) };
  const rounds: Record<keyof typeof bodies, LoadResult[]> = { metricsProto: [], metricsJson: [], tracesProto: [], requestsJson: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rounds.metricsJson.push(await load(vigil.url, '/ingest/metrics', bodies.metricsJson, { connections: 10, seconds: SECONDS, ...json }));
      rounds.metricsProto.push(await load(vigil.url, '/v1/metrics', bodies.metricsProto, { connections: 10, seconds: SECONDS, ...protobuf }));
      await waitForConsumers(vigil.url);
      rounds.requestsJson.push(await load(vigil.url, '/ingest/requests', bodies.requestsJson, { connections: 10, seconds: SECONDS, ...json }));
      rounds.tracesProto.push(await load(vigil.url, '/v1/traces', bodies.tracesProto, { connections: 10, seconds: SECONDS, ...protobuf }));
      await waitForConsumers(vigil.url);
    }
  } finally {
    await vigil.stop();
  }
  const row = (name: string, results: LoadResult[], unit: string, reference?: LoadResult[], target?: string) => {
    const perSecond = median(results.map((result) => result.requestsPerSecond)) * BATCH;
    const failures = results.reduce((sum, result) => sum + result.non2xx + result.errors, 0);
    const cpu = results.every((result) => result.serverCores !== undefined) ? median(results.map((result) => (result.serverCores! * 1e6) / (result.requestsPerSecond * BATCH))) : undefined;
    const notes = [
      `p99 ${median(results.map((result) => result.p99Ms))} ms`,
      ...(cpu === undefined ? [] : [`server CPU ${round(cpu, 1)} µs per item`]),
      ...(failures > 0 ? [`${failures} non-2xx or errors`] : []),
    ];
    return {
      name,
      value: round(perSecond, 0),
      unit,
      ...(reference ? { ratio: round(median(results.map((result) => result.requestsPerSecond)) / median(reference.map((result) => result.requestsPerSecond))) } : {}),
      ...(target ? { target } : {}),
      note: notes.join('; '),
    };
  };
  return {
    title: `OTLP (autocannon, 10 connections, median of ${ROUNDS} alternating ${SECONDS}s rounds on one Vigil; ratio = OTLP / the JSON endpoint)`,
    rows: [
      row('JSON: 1000-point batches POST /ingest/metrics', rounds.metricsJson, 'points/s'),
      row('OTLP protobuf: 1000-point gauge exports POST /v1/metrics', rounds.metricsProto, 'points/s', rounds.metricsJson, '≥ 250000 points/s'),
      row('JSON: 1000-request batches POST /ingest/requests', rounds.requestsJson, 'requests/s'),
      row('OTLP protobuf: 1000-span exports POST /v1/traces (server spans → requests)', rounds.tracesProto, 'spans/s', rounds.requestsJson, '≥ 100000 spans/s'),
    ],
  };
}
