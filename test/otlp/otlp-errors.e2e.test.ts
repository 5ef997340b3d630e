import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rpcCodeOf } from '../../src/intakes/otlp/otlp.dialect.js';
import { OTLP_SIGNALS, RPC_STATUS } from '../../src/intakes/otlp/otlp.proto.js';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase, type TestDatabase } from '../support/databases.js';

const INGEST_KEY = 'ingest-key-0123456789';
const READ_KEY = 'read-key-0123456789';
const ENCODINGS = [
  { name: 'protobuf', contentType: 'application/x-protobuf' },
  { name: 'json', contentType: 'application/json' },
] as const;

/** A valid one-span export in `contentType`'s encoding. */
function oneSpan(contentType: string): Uint8Array | string {
  const nanos = String(BigInt(Date.now()) * 1_000_000n);
  const span = { traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), name: 'GET /x', kind: 2, startTimeUnixNano: nanos, endTimeUnixNano: nanos };
  const json = { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'errors' } }] }, scopeSpans: [{ spans: [span] }] }] };
  if (contentType === 'application/json') return JSON.stringify(json);
  const request = OTLP_SIGNALS.traces.request;
  const proto = { ...json, resourceSpans: [{ ...json.resourceSpans[0]!, scopeSpans: [{ spans: [{ ...span, traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 0xcd) }] }] }] };
  return request.encode(request.fromObject(proto)).finish();
}

interface Answer {
  status: number;
  headers: Headers;
  code: number;
  message: string;
}

/** POSTs to /v1/traces and reads the google.rpc.Status in the encoding the request's Content-Type asks for. */
async function post(url: string, contentType: string, headers: Record<string, string>, body: Uint8Array | string = oneSpan(contentType)): Promise<Answer> {
  const response = await fetch(`${url}/v1/traces`, { method: 'POST', headers: { 'content-type': contentType, ...headers }, body });
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (contentType === 'application/x-protobuf') {
    assert.equal(response.headers.get('content-type'), 'application/x-protobuf');
    const status = RPC_STATUS.toObject(RPC_STATUS.decode(bytes)) as { code: number; message: string };
    return { status: response.status, headers: response.headers, code: status.code, message: status.message };
  }
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const status = JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(status).sort(), ['code', 'message']);
  return { status: response.status, headers: response.headers, code: status['code'] as number, message: status['message'] as string };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('every OTLP error answer is a google.rpc.Status in the request\'s encoding', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  before(async () => {
    database = sqliteDatabase();
    vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_READ_KEYS: READ_KEY, VIGIL_MAX_BODY_BYTES: String(64 * 1024) });
  });
  after(async () => {
    await vigil.close();
    await database.drop();
  });

  test('the codes of google/rpc/code.proto', () => {
    assert.deepEqual([400, 401, 403, 408, 413, 415, 429, 500, 503].map(rpcCodeOf), [3, 16, 7, 4, 8, 3, 8, 13, 14]);
  });

  for (const { name, contentType } of ENCODINGS) {
    test(`${name}: 401 without a key or with an unknown one, 403 with a key of another scope`, async () => {
      const missing = await post(vigil.url, contentType, {});
      assert.deepEqual([missing.status, missing.code, missing.message], [401, 16, 'An API key is required: Authorization: Bearer <key> (OTEL_EXPORTER_OTLP_HEADERS)']);
      const unknown = await post(vigil.url, contentType, bearer('not-a-key-0123456789'));
      assert.deepEqual([unknown.status, unknown.code, unknown.message], [401, 16, 'Unknown API key']);
      const scope = await post(vigil.url, contentType, bearer(READ_KEY));
      assert.deepEqual([scope.status, scope.code, scope.message], [403, 7, 'This API key lacks the ingest scope']);
    });

    test(`${name}: 413 over the body limit, also after decompression; 415 for an encoding Vigil does not undo`, async () => {
      const large = contentType === 'application/json' ? ' '.repeat(70 * 1024) + String(oneSpan(contentType)) : new Uint8Array(70 * 1024);
      const over = await post(vigil.url, contentType, bearer(INGEST_KEY), large);
      assert.deepEqual([over.status, over.code], [413, 8]);
      const { gzipSync } = await import('node:zlib');
      const overZipped = await post(vigil.url, contentType, { ...bearer(INGEST_KEY), 'content-encoding': 'gzip' }, gzipSync(large));
      assert.deepEqual([overZipped.status, overZipped.code], [413, 8]);
      const brotli = await post(vigil.url, contentType, { ...bearer(INGEST_KEY), 'content-encoding': 'br' });
      assert.deepEqual([brotli.status, brotli.code], [415, 3]);
      assert.match(brotli.message, /Content-Encoding br is not supported/);
    });
  }

  test('415 for a media type OTLP does not speak is answered in JSON', async () => {
    const answer = await post(vigil.url, 'text/plain', bearer(INGEST_KEY), 'hello');
    assert.deepEqual([answer.status, answer.code], [415, 3]);
    assert.match(answer.message, /Unsupported Media Type: text\/plain/);
  });

  test('the protobuf parser answers 415 on routes of other protocols', async () => {
    const response = await fetch(`${vigil.url}/ingest/metrics`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', ...bearer(INGEST_KEY) }, body: new Uint8Array([1, 2]) });
    assert.equal(response.status, 415);
    assert.equal(((await response.json()) as { status_code: number }).status_code, 415);
  });

  test('503 while draining, with Retry-After, in both encodings (last: the app stays draining)', async () => {
    const { Lifecycle } = await import('../../src/health/health-checks.js');
    vigil.app.get(Lifecycle).beginDraining();
    for (const { contentType } of ENCODINGS) {
      const answer = await post(vigil.url, contentType, bearer(INGEST_KEY));
      assert.deepEqual([answer.status, answer.code, answer.headers.get('retry-after')], [503, 14, '5']);
      assert.equal(answer.message, 'Vigil is shutting down; retry on another replica or shortly');
    }
  });
});

describe('OTLP over the rate limit: 429 with Retry-After and a google.rpc.Status', () => {
  let database: TestDatabase;
  let vigil: RunningApp;
  before(async () => {
    database = sqliteDatabase();
    vigil = await startApp({ DATABASE_URL: database.url, VIGIL_INGEST_KEYS: INGEST_KEY, VIGIL_RATE_LIMIT_MAX: '2', VIGIL_RATE_LIMIT_WINDOW_SECONDS: '600' });
  });
  after(async () => {
    await vigil.close();
    await database.drop();
  });

  test('two exports pass, the third of each encoding is refused', async () => {
    for (const { contentType } of ENCODINGS) {
      const response = await fetch(`${vigil.url}/v1/traces`, { method: 'POST', headers: { 'content-type': contentType, ...bearer(INGEST_KEY) }, body: oneSpan(contentType) });
      assert.equal(response.status, 200);
    }
    for (const { contentType } of ENCODINGS) {
      const answer = await post(vigil.url, contentType, bearer(INGEST_KEY));
      assert.deepEqual([answer.status, answer.code], [429, 8]);
      assert.match(answer.message, /^Rate limit of 2 requests per 600s exceeded; retry in \d+s$/);
      assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/);
    }
  });
});
