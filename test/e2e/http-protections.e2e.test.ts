import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { TestDb as Db } from '../support/all-tables.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import { startApp, type RunningApp } from '../support/app.js';
import { sqliteDatabase } from '../support/databases.js';
import { RawConnection, postHead, type RawAnswer } from '../support/raw-http.js';
import { storedEntries } from '../support/stored-entries.js';

/**
 * The HTTP protections of src/common/http-protections.ts against a running Vigil, spoken to
 * over raw sockets: authentication before the body, body timeouts and rates, the in-flight
 * body bound, the per-address connection cap, and Node's and Fastify's own refusals in
 * Vigil's error shape.
 */
const KEYS = { VIGIL_INGEST_KEYS: 'ingest-key', VIGIL_READ_KEYS: 'read-key', VIGIL_ADMIN_KEYS: 'admin-key' };
const METRIC = JSON.stringify({ metrics: [{ name: 'protections.test', value: 1 }] });

/** Asserts Vigil's error body, with the request id in both the body and X-Request-Id. */
function assertVigilError(answer: { status: number; headers: Record<string, string>; body: string }, status: number, message: RegExp): void {
  assert.equal(answer.status, status, answer.body);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'request_id', 'status_code']);
  assert.equal(body['status_code'], status);
  assert.match(String(body['message']), message);
  assert.ok(typeof body['request_id'] === 'string' && body['request_id'].length > 0);
  assert.equal(answer.headers['x-request-id'], body['request_id']);
}

async function refusedCount(vigil: RunningApp, reason: string): Promise<number> {
  const text = await (await fetch(`${vigil.url}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(`vigil_http_refused_total{reason="${reason}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function metricEntries(vigil: RunningApp): Promise<number> {
  return (await storedEntries(vigil.app.get<Db>(DATABASE))).filter((entry) => entry.kind === 'metric').length;
}

describe('authentication comes before the body', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, ...KEYS });
  });
  after(() => vigil.close());

  for (const [name, headers, status, message] of [
    ['no key', {}, 401, /API key is required/],
    ['an unknown key', { authorization: 'Bearer guess' }, 401, /Unknown API key/],
    ['a read key', { authorization: 'Bearer read-key' }, 403, /lacks the ingest scope/],
  ] as const) {
    test(`${name}: refused as soon as the headers arrive, the connection closed, nothing read or stored`, async () => {
      const connection = await RawConnection.open(vigil.url);
      connection.write(postHead('/ingest/metrics', { 'content-length': 4_900_000, ...headers }));
      connection.write('{"metrics":[');
      const answer = await connection.answer(5000);
      assertVigilError(answer, status, message);
      assert.equal(answer.headers['connection'], 'close');
      await connection.closed;
      assert.equal(await metricEntries(vigil), 0);
    });
  }

  test('a client still sending its body after the refusal gets no reset: the connection reads and drops until the client closes', async () => {
    // Without the lingering close, the bytes sent after the answer meet a closed socket and a TCP
    // reset, and a client that had not yet read the answer loses it (src/common/lingering-close.ts).
    const { hostname, port } = new URL(vigil.url);
    const socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
    await once(socket, 'connect');
    const errors: Error[] = [];
    socket.on('error', (error) => errors.push(error));
    let received = '';
    socket.setEncoding('latin1').on('data', (chunk: string) => (received += chunk));
    socket.write(postHead('/ingest/metrics', { 'content-length': 4_900_000 }));
    await once(socket, 'end');
    assert.match(received, /^HTTP\/1\.1 401 /);
    // 4 x 8 KiB: within what a lingering connection reads (LINGER_MAX_BYTES) before it resets.
    for (let round = 0; round < 4; round += 1) {
      socket.write('x'.repeat(8192));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(errors, []);
    socket.end();
    await once(socket, 'close');
    assert.equal(await metricEntries(vigil), 0);
  });

  test('the right key passes, on the same kind of request', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write(postHead('/ingest/metrics', { 'content-length': Buffer.byteLength(METRIC), 'x-api-key': 'ingest-key' }) + METRIC);
    assert.equal((await connection.answer()).status, 202);
    connection.close();
    assert.equal(await metricEntries(vigil), 1);
  });
});

describe('bodies that arrive too slowly', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, ...KEYS, VIGIL_BODY_TIMEOUT_MS: '2000', VIGIL_BODY_MIN_BYTES_PER_SECOND: '100' });
  });
  after(() => vigil.close());

  test('a body still arriving after VIGIL_BODY_TIMEOUT_MS is cut off with 408 and its connection closed', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write(postHead('/ingest/metrics', { 'content-length': 100_000, authorization: 'Bearer ingest-key' }));
    // 1 KB every 100 ms: fast enough for the rate, too long for the timeout.
    const dribble = setInterval(() => connection.write('x'.repeat(1000)), 100);
    try {
      const answer = await connection.answer(6000);
      assertVigilError(answer, 408, /did not arrive within 2 s/);
      assert.ok(answer.afterMs >= 2000, `answered after ${answer.afterMs} ms`);
      await connection.closed;
    } finally {
      clearInterval(dribble);
    }
    assert.equal(await refusedCount(vigil, 'body_timeout'), 1);
  });

  test('a body slower than VIGIL_BODY_MIN_BYTES_PER_SECOND over its first 5 s is cut off with 408', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write(postHead('/ingest/metrics', { 'content-length': 100_000, authorization: 'Bearer ingest-key' }));
    const dribble = setInterval(() => connection.write('x'), 200);
    try {
      // The timeout (2 s) comes first here; what matters is that the slow body ends, counted.
      const answer = await connection.answer(8000);
      assert.equal(answer.status, 408);
    } finally {
      clearInterval(dribble);
    }
    assert.equal(await metricEntries(vigil), 0);
  });
});

describe('the minimum transfer rate', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, ...KEYS, VIGIL_BODY_MIN_BYTES_PER_SECOND: '1000' });
  });
  after(() => vigil.close());

  test('10 bytes a second is cut off after the first 5-second window; the timeout (30 s) is far away', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write(postHead('/ingest/metrics', { 'content-length': 100_000, authorization: 'Bearer ingest-key' }));
    const dribble = setInterval(() => connection.write('x'), 100);
    try {
      const answer = await connection.answer(10_000);
      assertVigilError(answer, 408, /slower than 1000 bytes\/s/);
      assert.ok(answer.afterMs >= 5000 && answer.afterMs < 8000, `answered after ${answer.afterMs} ms`);
    } finally {
      clearInterval(dribble);
    }
    assert.equal(await refusedCount(vigil, 'body_too_slow'), 1);
  });
});

describe('the bound on body bytes in flight', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      ...KEYS,
      VIGIL_MAX_BODY_BYTES: '600000',
      VIGIL_MAX_BODY_BYTES_IN_FLIGHT: '1000000',
    });
  });
  after(() => vigil.close());

  test('a body that would pass the bound answers 503 + Retry-After at once; the bytes come back when the holder finishes', async () => {
    const padded = (length: number) => {
      const head = '{"metrics":[{"name":"held.body","value":1}],"padding":"';
      return head + 'p'.repeat(length - head.length - 2) + '"}';
    };
    const holder = await RawConnection.open(vigil.url);
    const held = padded(600_000);
    holder.write(postHead('/ingest/metrics', { 'content-length': held.length, authorization: 'Bearer ingest-key' }) + held.slice(0, 1000));
    await new Promise((resolve) => setTimeout(resolve, 100));

    const refused = await RawConnection.open(vigil.url);
    refused.write(postHead('/ingest/metrics', { 'content-length': 500_000, authorization: 'Bearer ingest-key' }));
    const answer = await refused.answer();
    assertVigilError(answer, 503, /holds as many request bodies as it may/);
    assert.equal(answer.headers['retry-after'], '1');
    assert.equal(await refusedCount(vigil, 'body_bytes_in_flight'), 1);

    // A chunked body is counted as it arrives: 450 KB more would pass the bound too (600 KB held).
    const chunked = await RawConnection.open(vigil.url);
    chunked.write(postHead('/ingest/metrics', { 'transfer-encoding': 'chunked', authorization: 'Bearer ingest-key' }));
    chunked.write(`${(450_000).toString(16)}\r\n${'c'.repeat(450_000)}\r\n`);
    assert.equal((await chunked.answer()).status, 503);
    assert.equal(await refusedCount(vigil, 'body_bytes_in_flight'), 2);

    holder.write(held.slice(1000));
    assert.equal((await holder.answer()).status, 202);
    holder.close();
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    assert.match(metrics, /^vigil_http_body_bytes_in_flight 0$/m);

    const after = await RawConnection.open(vigil.url);
    const body = padded(500_000);
    after.write(postHead('/ingest/metrics', { 'content-length': body.length, authorization: 'Bearer ingest-key' }) + body);
    assert.equal((await after.answer()).status, 202);
    after.close();
    assert.equal(await metricEntries(vigil), 2);
  });
});

describe('connections per client address', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, ...KEYS, VIGIL_MAX_CONNECTIONS_PER_ADDRESS: '3' });
  });
  after(() => vigil.close());

  test('a request on a connection over the cap answers 503 + Retry-After and closes it (health probes excepted); a freed slot serves again', async () => {
    const open = await Promise.all([1, 2, 3].map(() => RawConnection.open(vigil.url)));
    const over = await RawConnection.open(vigil.url);
    // Health probes are served on it (an orchestrator may share the flood's address) ...
    over.write('GET /health/live HTTP/1.1\r\nhost: vigil\r\n\r\n');
    assert.equal((await over.answer()).status, 200);
    // ... anything else is refused.
    over.write('GET /sla/targets HTTP/1.1\r\nhost: vigil\r\nauthorization: Bearer read-key\r\n\r\n');
    const answer = await over.answer();
    assertVigilError(answer, 503, /Too many open connections from one address \(at most 3\)/);
    assert.equal(answer.headers['retry-after'], '1');
    await over.closed;
    open[0]!.close();
    await open[0]!.closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await RawConnection.open(vigil.url);
    again.write('GET /health/live HTTP/1.1\r\nhost: vigil\r\n\r\n');
    assert.equal((await again.answer()).status, 200);
    for (const connection of [...open, again]) connection.close();
    await Promise.all([...open, again].map((connection) => connection.closed));
    await new Promise((resolve) => setTimeout(resolve, 50));
    // fetch opens (and keeps) a connection of its own: read the count once the others are gone.
    assert.equal(await refusedCount(vigil, 'connections_per_address'), 1);
  });
});

describe("Node's and Fastify's own refusals have Vigil's shape", () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, ...KEYS, VIGIL_HEADERS_TIMEOUT_MS: '1000', VIGIL_REQUEST_TIMEOUT_MS: '2000' });
  });
  after(() => vigil.close());

  const fetchAnswer = async (path: string, init: RequestInit = {}): Promise<RawAnswer> => {
    const response = await fetch(`${vigil.url}${path}`, init);
    return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text(), afterMs: 0 };
  };

  test('a path that is not valid percent-encoded UTF-8: 400', async () => {
    assertVigilError(await fetchAnswer('/analytics/user/%ED%A0%80', { headers: { authorization: 'Bearer read-key' } }), 400, /not well-formed percent-encoded UTF-8/);
    assertVigilError(await fetchAnswer('/analytics/user/%E0%A4%A', { headers: { authorization: 'Bearer read-key' } }), 400, /not well-formed/);
  });

  test('a path parameter over 2048 characters: 414', async () => {
    assertVigilError(await fetchAnswer(`/analytics/user/${'u'.repeat(2049)}`, { headers: { authorization: 'Bearer read-key' } }), 414, /path parameter is too long/);
  });

  test('headers over 16 KiB: 431, answered on the socket', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write(`GET /health/live HTTP/1.1\r\nhost: vigil\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`);
    assertVigilError(await connection.answer(), 431, /larger than 16 KiB/);
    await connection.closed;
  });

  test('bytes that are not HTTP: 400', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write('HELLO THERE\r\n\r\n');
    assertVigilError(await connection.answer(), 400, /not well-formed HTTP/);
    await connection.closed;
  });

  test('headers that never finish: 408 after VIGIL_HEADERS_TIMEOUT_MS', async () => {
    const connection = await RawConnection.open(vigil.url);
    connection.write('GET /health/live HTTP/1.1\r\nhost: vigil\r\n');
    const answer = await connection.answer(5000);
    assertVigilError(answer, 408, /did not arrive in time/);
    assert.ok(answer.afterMs >= 1000, `answered after ${answer.afterMs} ms`);
    assert.equal(await refusedCount(vigil, 'request_timeout'), 1);
  });

  test('a bodyless DELETE or POST with Content-Type: application/json is served, not refused as an empty body', async () => {
    const erased = await fetchAnswer('/analytics/user/nobody', { method: 'DELETE', headers: { authorization: 'Bearer admin-key', 'content-type': 'application/json' } });
    assert.ok(erased.status < 300, `${erased.status} ${erased.body}`);
    const replayed = await fetchAnswer('/admin/dead-letters/replay', { method: 'POST', headers: { authorization: 'Bearer admin-key', 'content-type': 'application/json' } });
    assert.doesNotMatch(replayed.body, /Body cannot be empty/);
    assert.ok(replayed.status < 500, `${replayed.status} ${replayed.body}`);
  });
});
