import fc from 'fast-check';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type protobuf from 'protobufjs';
import { gzipSync } from 'node:zlib';
import { OTLP_SIGNALS, RPC_STATUS } from '../../src/intakes/otlp/otlp.proto.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';
import { storedItems } from '../support/stored-entries.js';

const INGEST_KEY = 'ingest-key-0123456789';
const PROTOBUF = { 'content-type': 'application/x-protobuf', authorization: `Bearer ${INGEST_KEY}` };

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 127) {
    bytes.push((value & 127) | 128);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return bytes;
}

/** A length-delimited field `field` holding `bytes`. */
function wrap(field: number, bytes: Uint8Array): Uint8Array {
  const prefix = [(field << 3) | 2, ...varint(bytes.length)];
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix);
  out.set(bytes, prefix.length);
  return out;
}

/** An AnyValue of `depth` nested arrayValues around "x", written outside in without recursion. */
function nestedAnyValue(depth: number): Uint8Array {
  const inner = [0x0a, 1, 0x78];
  const prefixes: number[][] = [];
  let length = inner.length;
  for (let level = 0; level < depth; level++) {
    const values = [0x0a, ...varint(length)]; // ArrayValue.values (1)
    length += values.length;
    const arrayValue = [0x2a, ...varint(length)]; // AnyValue.array_value (5)
    length += arrayValue.length;
    prefixes.push(values, arrayValue);
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (let index = prefixes.length - 1; index >= 0; index--) {
    out.set(prefixes[index]!, at);
    at += prefixes[index]!.length;
  }
  out.set(inner, at);
  return out;
}

/** ExportLogsServiceRequest { resource_logs { scope_logs { log_records { body } } } } with a hand-built body. */
const logWithBody = (body: Uint8Array) => wrap(1, wrap(2, wrap(2, wrap(5, body))));

function encode(type: protobuf.Type, object: Record<string, unknown>): Uint8Array {
  return type.encode(type.fromObject(object)).finish();
}

const NOW_NANOS = () => String(BigInt(Date.now()) * 1_000_000n);
function serverSpans(service: string, count: number, extra: Record<string, unknown> = {}) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            spans: Array.from({ length: count }, (_, index) => ({
              traceId: Buffer.alloc(16, 1),
              spanId: Buffer.alloc(8, index + 1),
              name: 'GET /x',
              kind: 2,
              startTimeUnixNano: NOW_NANOS(),
              endTimeUnixNano: NOW_NANOS(),
              ...extra,
            })),
          },
        ],
      },
    ],
  };
}

describe('hostile OTLP protobuf: 400 with a google.rpc.Status, never 5xx', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  before(async () => {
    database = sqliteDatabase();
    vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY });
  });
  after(async () => {
    await vigil.close();
    await database.drop();
  });

  const post = async (signal: 'traces' | 'logs' | 'metrics', body: Uint8Array, headers: Record<string, string> = {}) => {
    const response = await fetch(`${vigil.url}/v1/${signal}`, { method: 'POST', headers: { ...PROTOBUF, ...headers }, body });
    return { status: response.status, contentType: response.headers.get('content-type'), body: new Uint8Array(await response.arrayBuffer()) };
  };
  const assertInvalid = async (signal: 'traces' | 'logs' | 'metrics', body: Uint8Array, reason: RegExp) => {
    const answer = await post(signal, body);
    assert.equal(answer.status, 400);
    assert.equal(answer.contentType, 'application/x-protobuf');
    const status = RPC_STATUS.toObject(RPC_STATUS.decode(answer.body)) as { code: number; message: string };
    assert.equal(status.code, 3);
    assert.match(status.message, reason);
  };

  test('truncated bodies', async () => {
    const whole = encode(OTLP_SIGNALS.traces.request, serverSpans('truncated', 3));
    for (const cut of [1, 7, Math.floor(whole.length / 2), whole.length - 1]) {
      await assertInvalid('traces', whole.subarray(0, cut), /not a valid ExportTraceServiceRequest/);
    }
    assert.equal(await storedCount('request', 'service', 'truncated'), 0);
  });

  test('wrong and invalid wire types, lengths past the end', async () => {
    await assertInvalid('traces', Uint8Array.from([0x0e, 1]), /invalid wire type/);
    await assertInvalid('traces', Uint8Array.from([0x0d, 1, 2, 3, 4]), /holds no resourceSpans/);
    await assertInvalid('logs', Uint8Array.from([0x08, 0x01]), /holds no resourceLogs/);
    await assertInvalid('metrics', Uint8Array.from([0x0a, 0x7f, 0x01]), /not a valid ExportMetricsServiceRequest/);
  });

  const storedCount = async (kind: 'request' | 'log' | 'metric', field: 'service' | 'name', value: string) =>
    (await storedItems<Record<string, unknown>>(vigil.app.get<Db>(DATABASE), [kind])).filter((item) => item[field] === value).length;
  const attributesOf = (count: number) => Array.from({ length: count }, (_, index) => ({ key: `a${index}`, value: { stringValue: 'v' } }));
  const serviceResource = (service: string, attributeCount = 0) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }, ...attributesOf(attributeCount)] });
  const logExport = (service: string, record: Record<string, unknown>, scope: Record<string, unknown> = {}, resourceAttributes = 0) => ({
    resourceLogs: [{ resource: serviceResource(service, resourceAttributes), scopeLogs: [{ scope, logRecords: [{ timeUnixNano: NOW_NANOS(), severityNumber: 9, ...record }] }] }],
  });
  const gaugeExport = (name: string, pointAttributes: number, scopeAttributes = 0) => ({
    resourceMetrics: [
      {
        resource: serviceResource('gauges'),
        scopeMetrics: [{ scope: { attributes: attributesOf(scopeAttributes) }, metrics: [{ name, gauge: { dataPoints: [{ timeUnixNano: NOW_NANOS(), asDouble: 1, attributes: attributesOf(pointAttributes) }] } }] }],
      },
    ],
  });
  /** A log record whose body nests `depth` arrayValues around the string "x" (the string is at depth + 1). */
  const nestedLog = (service: string, depth: number) => {
    const record = encode(OTLP_SIGNALS.logs.request.lookupType('opentelemetry.proto.logs.v1.LogRecord'), { timeUnixNano: NOW_NANOS() });
    const resource = encode(OTLP_SIGNALS.logs.request.lookupType('opentelemetry.proto.resource.v1.Resource'), serviceResource(service));
    const recordWithBody = new Uint8Array([...record, ...wrap(5, nestedAnyValue(depth))]);
    return wrap(1, new Uint8Array([...wrap(1, resource), ...wrap(2, wrap(2, recordWithBody))]));
  };

  test('deeply nested AnyValue: past the decoder depth limit and past 8 levels the export is refused, nothing stored; 8 levels are kept', async () => {
    await assertInvalid('logs', logWithBody(nestedAnyValue(100_000)), /depth/);
    await assertInvalid('logs', nestedLog('nested-deep', 8), /^values must not nest deeper than 8 levels$/);
    await assertInvalid('logs', nestedLog('nested-deep', 20), /^values must not nest deeper than 8 levels$/);
    assert.equal(await storedCount('log', 'service', 'nested-deep'), 0);
    const kept = await post('logs', nestedLog('nested-eight', 7));
    assert.equal(kept.status, 200);
    assert.equal(await storedCount('log', 'service', 'nested-eight'), 1);
  });

  test('huge strings: an AnyValue string over 32768 characters refuses the export, a field over its item limit refuses the item, a body over VIGIL_MAX_BODY_BYTES is a 413; nothing stored', async () => {
    const huge = 'x'.repeat(3 * 1024 * 1024);
    await assertInvalid('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('huge', 1, { name: huge })), /every part of the export was refused: requests\[0\]\.operation must be at most 200 characters/);
    assert.equal(await storedCount('request', 'service', 'huge'), 0);
    const hugeString = /^a string value holds 3145728 characters; at most 32768 are allowed$/;
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('huge-body', { body: { stringValue: huge } })), hugeString);
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('huge-body', { body: { stringValue: 'fine' }, attributes: [{ key: 'big', value: { stringValue: huge } }] })), hugeString);
    assert.equal(await storedCount('log', 'service', 'huge-body'), 0);
    const atLimit = await post('logs', encode(OTLP_SIGNALS.logs.request, logExport('body-at-limit', { body: { stringValue: 'y'.repeat(32_768) } })));
    assert.equal(atLimit.status, 200);
    assert.equal(await storedCount('log', 'service', 'body-at-limit'), 1);
    const over = await post('logs', logWithBody(Buffer.alloc(6 * 1024 * 1024, 0x61)));
    assert.equal(over.status, 413);
    const overZipped = await post('logs', gzipSync(logWithBody(Buffer.alloc(6 * 1024 * 1024, 0x61))), { 'content-encoding': 'gzip' });
    assert.equal(overZipped.status, 413);
  });

  const attributeLimit = /holds 100000 attributes; at most 128 are allowed per resource, scope, data point, span or log record$/;
  test('100,000 attributes on a span, a resource, a scope, a data point or a log record: 400 naming the limit, nothing stored', async () => {
    await assertInvalid('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('wide', 1, { attributes: attributesOf(100_000) })), new RegExp(`^a span ${attributeLimit.source}`));
    const internal = serverSpans('wide', 1, { attributes: attributesOf(100_000), kind: 1 });
    await assertInvalid('traces', encode(OTLP_SIGNALS.traces.request, internal), new RegExp(`^a span ${attributeLimit.source}`));
    assert.equal(await storedCount('request', 'service', 'wide'), 0);
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('wide-log', { attributes: attributesOf(100_000) })), new RegExp(`^a log record ${attributeLimit.source}`));
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('wide-log', {}, { attributes: attributesOf(100_000) })), new RegExp(`^a scope ${attributeLimit.source}`));
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('wide-log', {}, {}, 99_999)), new RegExp(`^a resource ${attributeLimit.source}`));
    const wideList = { body: { kvlistValue: { values: attributesOf(100_000) } } };
    await assertInvalid('logs', encode(OTLP_SIGNALS.logs.request, logExport('wide-log', wideList)), /^an array or key-value list value holds 100000 entries; at most 128 are allowed$/);
    assert.equal(await storedCount('log', 'service', 'wide-log'), 0);
    await assertInvalid('metrics', encode(OTLP_SIGNALS.metrics.request, gaugeExport('wide.point', 100_000)), new RegExp(`^a data point ${attributeLimit.source}`));
    await assertInvalid('metrics', encode(OTLP_SIGNALS.metrics.request, gaugeExport('wide.scope', 0, 100_000)), new RegExp(`^a scope ${attributeLimit.source}`));
    assert.equal(await storedCount('metric', 'name', 'wide.point') + (await storedCount('metric', 'name', 'wide.scope')), 0);
  });

  test('the attribute limit is 128: 128 attributes are kept, 129 refuse the export; OTLP/JSON gets a JSON google.rpc.Status', async () => {
    const at = await post('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('wide-128', 1, { attributes: attributesOf(128) })));
    assert.equal(at.status, 200);
    assert.equal(await storedCount('request', 'service', 'wide-128'), 1);
    await assertInvalid('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('wide-129', 1, { attributes: attributesOf(129) })), /^a span holds 129 attributes; at most 128/);
    assert.equal(await storedCount('request', 'service', 'wide-129'), 0);
    const json = logExport('wide-json', { attributes: attributesOf(100_000) });
    const response = await fetch(`${vigil.url}/v1/logs`, { method: 'POST', headers: { ...PROTOBUF, 'content-type': 'application/json' }, body: JSON.stringify(json) });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await response.json(), { code: 3, message: 'a log record holds 100000 attributes; at most 128 are allowed per resource, scope, data point, span or log record' });
    assert.equal(await storedCount('log', 'service', 'wide-json'), 0);
  });

  const assertInvalidWith = async (headers: Record<string, string>, body: Uint8Array, reason: RegExp) => {
    const answer = await post('traces', body, headers);
    assert.equal(answer.status, 400);
    assert.equal(answer.contentType, 'application/x-protobuf');
    assert.match((RPC_STATUS.toObject(RPC_STATUS.decode(answer.body)) as { message: string }).message, reason);
  };

  test('a body that is not valid gzip, or not JSON, is refused before decoding, still with a google.rpc.Status', async () => {
    await assertInvalidWith({ 'content-encoding': 'gzip' }, Uint8Array.from([0x1f, 0x8b, 8, 0, 1, 2, 3]), /gzip/);
    const response = await fetch(`${vigil.url}/v1/logs`, { method: 'POST', headers: { ...PROTOBUF, 'content-type': 'application/json' }, body: '{"resourceLogs": [' });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const status = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(status).sort(), ['code', 'message']);
    assert.equal(status['code'], 3);
  });
  test('random bytes: 400 or 200, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('traces', 'logs', 'metrics' as const), fc.uint8Array({ minLength: 1, maxLength: 300 }), async (signal, bytes) => {
        const answer = await post(signal, bytes);
        assert.ok(answer.status === 400 || answer.status === 200, `${answer.status} for ${Buffer.from(bytes).toString('hex')}`);
      }),
      { seed: 21, numRuns: 300 },
    );
  });
});
