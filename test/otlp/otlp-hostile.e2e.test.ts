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
  const storedRequests = async (service: string) =>
    (await storedItems<{ service: string }>(vigil.app.get<Db>(DATABASE), ['request'])).filter((item) => item.service === service).length;

  test('truncated bodies', async () => {
    const whole = encode(OTLP_SIGNALS.traces.request, serverSpans('truncated', 3));
    for (const cut of [1, 7, Math.floor(whole.length / 2), whole.length - 1]) {
      await assertInvalid('traces', whole.subarray(0, cut), /not a valid ExportTraceServiceRequest/);
    }
    assert.equal(await storedRequests('truncated'), 0);
  });

  test('wrong and invalid wire types, lengths past the end', async () => {
    await assertInvalid('traces', Uint8Array.from([0x0e, 1]), /invalid wire type/);
    await assertInvalid('traces', Uint8Array.from([0x0d, 1, 2, 3, 4]), /holds no resourceSpans/);
    await assertInvalid('logs', Uint8Array.from([0x08, 0x01]), /holds no resourceLogs/);
    await assertInvalid('metrics', Uint8Array.from([0x0a, 0x7f, 0x01]), /not a valid ExportMetricsServiceRequest/);
  });

  test('deeply nested AnyValue: past the decoder depth limit the body is refused; past the mapping depth the record is', async () => {
    await assertInvalid('logs', logWithBody(nestedAnyValue(100_000)), /depth/);
    await assertInvalid('logs', logWithBody(nestedAnyValue(20)), /every part of the export was refused: a log record: values must not nest deeper than 8 levels/);
  });

  test('huge strings: a value over its field limit refuses the item, a body over VIGIL_MAX_BODY_BYTES is a 413', async () => {
    const huge = 'x'.repeat(3 * 1024 * 1024);
    await assertInvalid('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('huge', 1, { name: huge })), /operation must be at most 200 characters/);
    await assertInvalid('logs', logWithBody(encode(OTLP_SIGNALS.logs.request.lookupType('opentelemetry.proto.common.v1.AnyValue'), { stringValue: huge })), /message must be at most 32768 characters/);
    const over = await post('logs', logWithBody(Buffer.alloc(6 * 1024 * 1024, 0x61)));
    assert.equal(over.status, 413);
    const overZipped = await post('logs', gzipSync(logWithBody(Buffer.alloc(6 * 1024 * 1024, 0x61))), { 'content-encoding': 'gzip' });
    assert.equal(overZipped.status, 413);
  });

  test('100,000 attributes on a span: read up to the first 128, the request stored once', async () => {
    const attributes = Array.from({ length: 100_000 }, (_, index) => ({ key: `a${index}`, value: { stringValue: 'v' } }));
    const answer = await post('traces', encode(OTLP_SIGNALS.traces.request, serverSpans('wide', 1, { attributes })));
    assert.equal(answer.status, 200);
    assert.deepEqual(OTLP_SIGNALS.traces.response.toObject(OTLP_SIGNALS.traces.response.decode(answer.body)), {});
    assert.equal(await storedRequests('wide'), 1);
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
    assert.equal(response.headers.get('content-type'), 'application/json');
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
