import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { sqliteDatabase } from '../support/databases.js';
import { startApp, type RunningApp } from '../support/app.js';
import { storedEntries } from '../support/stored-entries.js';

const ENDPOINTS = [
  { path: 'metrics', field: 'metrics' },
  { path: 'events', field: 'events' },
  { path: 'logs', field: 'logs' },
  { path: 'requests', field: 'requests' },
  { path: 'analytics', field: 'events' },
] as const;

const FIELD_NAMES = ['name', 'value', 'type', 'timestamp', 'tags', 'unit', 'title', 'text', 'alertType', 'source', 'message', 'level', 'service',
  'attributes', 'traceId', 'requestId', 'userId', 'durationMs', 'operation', 'statusCode', 'success', 'sessionId', 'page', 'properties',
  '__proto__', 'constructor', 'prototype'];

/** Values of every JSON type, including the awkward ones. */
const awkwardValue = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(0, -0, 1e308, -1e308, 2 ** 53 + 1, '', ' ', '\u0000', '\ud800', 'NaN', 'Infinity', '2026-13-45T99:99:99Z', 'page_view', [], {}),
  // Careless data of issue 19: epoch seconds and microseconds, impossible dates, terminal escapes.
  fc.constantFrom(1.5, 1_796_641_523, 1_796_641_523_000_000, '2026-02-30T00:00:00Z', '2026-03-01T24:00:00Z', '\u001b[31mred', 'a\r\nb', 'x\u009b', 'user-\udc00'),
  fc.string({ maxLength: 300 }),
  fc.double(),
  fc.integer(),
);

const item = fc.dictionary(fc.constantFrom(...FIELD_NAMES), awkwardValue, { maxKeys: 10 });

describe('fuzzing every ingest endpoint', () => {
  let vigil: RunningApp;
  let accepted = 0;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_MAX_BODY_BYTES: '200000', VIGIL_MAX_BATCH: '200', LOG_LEVEL: 'error' });
  });
  after(() => vigil.close());

  const send = async (path: string, body: string | Buffer, headers: Record<string, string> = {}) => {
    const response = await fetch(`${vigil.url}/ingest/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    const text = await response.text();
    assert.ok(response.status < 500, `${response.status} for ${String(body).slice(0, 200)}: ${text}`);
    if (response.status === 202) accepted += (JSON.parse(text) as { accepted: number }).accepted;
    return response.status;
  };

  for (const { path, field } of ENDPOINTS) {
    test(`/ingest/${path}: random batches of awkward items never answer 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(fc.oneof(item, awkwardValue), { maxLength: 30 }), async (batch) => {
          await send(path, JSON.stringify({ [field]: batch }));
        }),
        { numRuns: 400, seed: 20261127 },
      );
    });

    test(`/ingest/${path}: malformed, oversized, deeply nested, wrongly typed bodies`, async () => {
      const bodies: Array<[string | Buffer, Record<string, string>?]> = [
        ['', {}],
        ['null'],
        ['[]'],
        ['"text"'],
        ['{"' + field + '": {}}'],
        ['{"' + field + '": "x"}'],
        ['{"' + field + '": [null, 1, "a", []]}'],
        ['{' + '"a":{'.repeat(5000) + '}'.repeat(5001)],
        ['{"' + field + '":[' + '['.repeat(20000) + ']'.repeat(20000) + ']}'],
        ['{"' + field + '":[{"attributes":' + '{"a":'.repeat(3000) + '1' + '}'.repeat(3000) + '}]}'],
        ['{"' + field + '":[' + '{"x":1},'.repeat(300) + '{"x":1}]}'],
        [JSON.stringify({ [field]: [{ message: 'x'.repeat(300_000) }] })],
        [gzipSync(JSON.stringify({ [field]: [{ text: 'z'.repeat(2_000_000) }] })), { 'content-encoding': 'gzip' }],
        [Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff]), { 'content-encoding': 'gzip' }],
        ['{"' + field + '":[{"name":"a","value":1}]', {}],
        ['{"' + field + '":[1]}', { 'content-type': 'application/xml' }],
        ['{"__proto__":{"' + field + '":[{"name":"a","value":1}]}}'],
      ];
      for (const [body, headers] of bodies) {
        const status = await send(path, body, headers ?? {});
        assert.ok([202, 400, 413, 415].includes(status), `status ${status}`);
      }
      assert.equal(({} as Record<string, unknown>)[field], undefined, 'no prototype pollution');
    });
  }

  test('the process is up and stored exactly what was accepted', async () => {
    assert.equal((await fetch(`${vigil.url}/health/ready`)).status, 200);
    // Events Vigil raises itself (anomalies, SLA changes) share the log; they are not ingested items.
    const stored = await storedEntries(vigil.app.get<Db>(DATABASE));
    assert.equal(stored.filter((entry) => !(entry.kind === 'event' && (JSON.parse(entry.json) as { source?: string }).source === 'vigil')).length, accepted);
    assert.ok(accepted > 0);
  });
});
