import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { waitFor } from '../delivery/delivery-support.js';
import { getJson, startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';
import {
  exportLogs,
  exportMetrics,
  exportSpans,
  makeLogs,
  makeSpans,
  meterProvider,
  SeverityNumber,
  SpanKind,
  SUCCESS,
  type ExporterOptions,
  type OtlpEncodingUnderTest,
  type ServerSpan,
} from './otel-sdk.js';

const INGEST_KEY = 'ingest-key-0123456789';
const READ_KEY = 'read-key-0123456789';

/** One exposed sample's value on /metrics: the line of `family` whose labels include every one given. */
async function sample(url: string, family: string, labels: Record<string, string>): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${family}{`)) continue;
    if (Object.entries(labels).every(([name, value]) => line.includes(`${name}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** The exact p95 of `values` (nearest rank), the reference for Vigil's sketch (within 1 %). */
function nearestRank(values: number[], quantile: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(quantile * sorted.length) - 1]!;
}

const COMBINATIONS: Array<{ encoding: OtlpEncodingUnderTest; gzip: boolean }> = [
  { encoding: 'protobuf', gzip: false },
  { encoding: 'protobuf', gzip: true },
  { encoding: 'json', gzip: false },
  { encoding: 'json', gzip: true },
];

describe('OTLP/HTTP with the OpenTelemetry JS SDK exporters', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  const elasticsearch = new FakeElasticsearch();
  const read = { authorization: `Bearer ${READ_KEY}` };

  before(async () => {
    database = sqliteDatabase();
    await elasticsearch.start();
    vigil = await startApp({
      DATABASE_URL: database.url,
      VIGIL_INGEST_KEYS: INGEST_KEY,
      VIGIL_READ_KEYS: READ_KEY,
      ELASTICSEARCH_URL: elasticsearch.url,
      ELASTICSEARCH_INDEX_PREFIX: 'otlp',
    });
  });
  after(async () => {
    await vigil.close();
    await elasticsearch.stop();
    await database.drop();
  });
  const options = (encoding: OtlpEncodingUnderTest, gzip: boolean, key = INGEST_KEY): ExporterOptions => ({
    baseUrl: vigil.url,
    encoding,
    gzip,
    headers: { authorization: `Bearer ${key}` },
  });

  for (const { encoding, gzip } of COMBINATIONS) {
    const label = `${encoding}${gzip ? '-gzip' : ''}`;

    test(`${label}: server and consumer spans become requests with exact SLA counts and p95; other kinds are only counted`, async () => {
      const service = `checkout-${label}`;
      const now = Date.now() - 60_000;
      const requests: ServerSpan[] = Array.from({ length: 40 }, (_, index) => ({
        route: index % 2 === 0 ? '/orders/:id' : '/cart',
        method: 'GET',
        status: (index + 1) % 10 === 0 ? 503 : 200,
        startMs: now + index * 100,
        durationMs: 10 * (index + 1),
        error: index === 6,
        kind: index === 3 ? SpanKind.CONSUMER : SpanKind.SERVER,
      }));
      const others: ServerSpan[] = [SpanKind.INTERNAL, SpanKind.INTERNAL, SpanKind.CLIENT].map((kind, index) => ({
        route: '/ignored',
        method: 'GET',
        status: 200,
        startMs: now + index,
        durationMs: 5,
        kind,
      }));
      const internalBefore = (await sample(vigil.url, 'vigil_otlp_spans_total', { kind: 'internal' })) ?? 0;
      const result = await exportSpans(options(encoding, gzip), makeSpans(service, [...requests, ...others]));
      assert.equal(result.code, SUCCESS, String(result.error));
      await vigil.settle();

      const status = await getJson(`${vigil.url}/sla/status/${service}`, read);
      assert.equal(status.status, 200);
      const metrics = status.body['metrics'] as { requests: Record<string, number>; latency: { p95_ms: number } };
      const failed = requests.filter((span) => span.status >= 500 || span.error).length;
      assert.deepEqual(metrics.requests, { total: 40, successful: 40 - failed, failed });
      assert.equal(failed, 5);
      const p95 = nearestRank(requests.map((span) => span.durationMs), 0.95);
      assert.ok(Math.abs(metrics.latency.p95_ms - p95) <= p95 * 0.01, `p95 ${metrics.latency.p95_ms} vs exact ${p95}`);
      assert.equal(await sample(vigil.url, 'vigil_otlp_spans_total', { kind: 'internal' }), internalBefore + 2);
    });

    test(`${label}: a monotonic cumulative counter exporting 10, 25, 40 (and 40 again) adds up to 40; up-down counters and gauges are gauges`, async () => {
      const service = `orders-${label}`;
      const { provider, reader } = meterProvider(service);
      const meter = provider.getMeter('vigil-test');
      const orders = meter.createCounter('shop.orders', { description: 'orders placed' });
      const depth = meter.createUpDownCounter('queue.depth');
      const temperature = meter.createGauge('room.temperature', { unit: 'Cel' });
      const exported: number[] = [];
      for (const [increment, depthChange] of [[10, 5], [15, -2], [15, 4]] as const) {
        orders.add(increment, { region: 'eu' });
        depth.add(depthChange);
        temperature.record(20 + increment);
        const { result } = await exportMetrics(options(encoding, gzip), reader);
        assert.equal(result.code, SUCCESS, String(result.error));
        exported.push(increment);
      }
      // The same cumulative point again, as an exporter's final flush sends it.
      const { result } = await exportMetrics(options(encoding, gzip), reader);
      assert.equal(result.code, SUCCESS);
      await provider.shutdown();

      assert.equal(await sample(vigil.url, 'vigil_app_shop_orders_total', { service, region: 'eu' }), 40);
      assert.equal(await sample(vigil.url, 'vigil_app_queue_depth', { service }), 5 - 2 + 4);
      assert.equal(await sample(vigil.url, 'vigil_app_room_temperature', { service }), 35);
    });

    test(`${label}: log records reach the log destination with level, message, service, trace and span ids`, async () => {
      const service = `payments-${label}`;
      const traceId = `${label.length.toString(16).padStart(2, '0')}${'ab'.repeat(15)}`;
      const spanId = 'cd'.repeat(8);
      const spanContext = trace.setSpanContext(ROOT_CONTEXT, { traceId, spanId, traceFlags: TraceFlags.SAMPLED });
      const records = makeLogs(service, [
        { severity: SeverityNumber.ERROR, text: 'ERROR', body: `payment failed ${label}`, attributes: { orderId: 'o-1', amount: 12 }, context: spanContext },
        { severity: SeverityNumber.WARN2, text: 'WARN', body: `retrying ${label}` },
        { severity: SeverityNumber.UNSPECIFIED, text: 'critical', body: `gave up ${label}` },
      ]);
      const result = await exportLogs(options(encoding, gzip), records);
      assert.equal(result.code, SUCCESS, String(result.error));
      const mine = () => elasticsearch.documents().filter(({ document }) => document['service'] === service);
      await waitFor('the three log records in Elasticsearch', () => mine().length === 3);
      const byMessage = new Map(mine().map(({ document }) => [document['message'], document]));
      assert.deepEqual(
        [...byMessage.keys()].sort(),
        [`gave up ${label}`, `payment failed ${label}`, `retrying ${label}`],
      );
      const failed = byMessage.get(`payment failed ${label}`)!;
      assert.equal(failed['level'], 'error');
      assert.equal(failed['trace_id'], traceId);
      assert.deepEqual(failed['attributes'], { orderId: 'o-1', amount: 12, spanId });
      assert.equal(byMessage.get(`retrying ${label}`)!['level'], 'warn');
      assert.equal(byMessage.get(`gave up ${label}`)!['level'], 'fatal');
    });
  }

  test("configured only by the quick start's two environment variables, the SDK's exporter reaches /sla/status", async () => {
    const saved = { endpoint: process.env['OTEL_EXPORTER_OTLP_ENDPOINT'], headers: process.env['OTEL_EXPORTER_OTLP_HEADERS'] };
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = vigil.url;
    process.env['OTEL_EXPORTER_OTLP_HEADERS'] = `Authorization=Bearer%20${INGEST_KEY}`;
    try {
      const exporter = new ProtoTraceExporter();
      const spans = makeSpans('from-environment', [{ route: '/', method: 'GET', status: 200, startMs: Date.now() - 1000, durationMs: 12 }]);
      const result = await new Promise<{ code: number }>((resolve) => exporter.export(spans, resolve));
      await exporter.shutdown();
      assert.equal(result.code, SUCCESS);
    } finally {
      for (const [name, value] of [['OTEL_EXPORTER_OTLP_ENDPOINT', saved.endpoint], ['OTEL_EXPORTER_OTLP_HEADERS', saved.headers]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    await vigil.settle();
    const status = await getJson(`${vigil.url}/sla/status/from-environment`, read);
    assert.deepEqual((status.body['metrics'] as { requests: unknown }).requests, { total: 1, successful: 1, failed: 0 });
  });

  test('a wrong key is refused before the body is read, 401 (the exporter does not retry it)', async () => {
    const result = await exportSpans(options('protobuf', false, 'not-a-key-0123456789'), makeSpans('refused', [{ route: '/', method: 'GET', status: 200, startMs: Date.now(), durationMs: 1 }]));
    assert.notEqual(result.code, SUCCESS);
    assert.equal((await getJson(`${vigil.url}/sla/status/refused`, read)).status, 404);
  });
});
