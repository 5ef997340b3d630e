import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { sqliteDatabase } from '../support/databases.js';
import { postJson, startApp, type RunningApp } from '../support/app.js';
import { DATABASE } from '../../src/storage/database.provider.js';
import type { TestDb as Db } from '../support/all-tables.js';
import { storedEntries } from '../support/stored-entries.js';

describe('ingest limits, rate limits, secrets', () => {
  let vigil: RunningApp;
  const ingestKey = 'ingest-secret-key-abcdef';
  const auth = { authorization: `Bearer ${ingestKey}` };
  before(async () => {
    vigil = await startApp({
      DATABASE_URL: sqliteDatabase().url,
      VIGIL_INGEST_KEYS: ingestKey,
      VIGIL_MAX_BODY_BYTES: '20000',
      VIGIL_MAX_BATCH: '50',
      VIGIL_RATE_LIMIT_MAX: '1000',
      DATADOG_API_KEY: 'dd-secret-key-should-not-leak',
    });
  });
  after(() => vigil.close());
  const stored = async () => {
    return (await storedEntries(vigil.app.get<Db>(DATABASE))).length;
  };

  // First in this suite: a failed request is written to the log at once only when no other
  // was written in the last 10 s (later ones are counted into one line per status and route).
  test('errors carry the request id; secrets appear in no body and no log line', async () => {
    const denied = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [] }, { authorization: 'Bearer wrong-key-zzz', 'x-request-id': 'req-123' });
    assert.equal(denied.status, 401);
    assert.equal(denied.body.request_id, 'req-123');
    assert.equal(denied.headers.get('x-request-id'), 'req-123');
    await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'a', value: 1 }] }, auth);
    await postJson(`${vigil.url}/ingest/metrics`, { nope: 1 }, auth);
    for (const secret of [ingestKey, 'dd-secret-key-should-not-leak']) {
      assert.ok(!vigil.logs.text.includes(secret), `log leaked ${secret}`);
      assert.ok(!denied.text.includes(secret));
    }
    assert.ok(vigil.logs.lines.some((line) => line.includes('"request_id":"req-123"')), 'the 401 is logged with its request id');
  });

  test('a commit the store refuses answers 503 with Retry-After, logs its cause once, and stores nothing', async () => {
    const db = vigil.app.get<Db>(DATABASE);
    const before = await stored();
    await sql`create trigger refuse_ingest before insert on ingest_log begin select raise(abort, 'disk I/O error (injected)'); end`.execute(db);
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        const refused = await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'a', value: attempt }] }, auth);
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get('retry-after'), '5');
        assert.equal(refused.body.status_code, 503);
        assert.match(String(refused.body.message), /Storage is unavailable/);
        assert.ok(refused.body.request_id);
      }
    } finally {
      await sql`drop trigger refuse_ingest`.execute(db);
    }
    assert.equal(await stored(), before);
    const causes = vigil.logs.lines.filter((line) => line.includes('Ingest commit failed'));
    assert.equal(causes.length, 1);
    assert.match(causes[0]!, /disk I\/O error \(injected\)/);
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'a', value: 2 }] }, auth)).status, 202);
    assert.equal(await stored(), before + 1);
    assert.ok(vigil.logs.lines.some((line) => line.includes('Ingest commits succeed again')));
  });

  test('413 by bytes, by gzip expansion, and by item count; nothing stored', async () => {
    const before = await stored();
    const big = { logs: [{ message: 'x'.repeat(25_000) }] };
    assert.equal((await postJson(`${vigil.url}/ingest/logs`, big, auth)).status, 413);
    const bomb = gzipSync(JSON.stringify({ logs: [{ message: 'y'.repeat(200_000) }] }));
    assert.ok(bomb.length < 20_000);
    const expanded = await fetch(`${vigil.url}/ingest/logs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: bomb,
    });
    assert.equal(expanded.status, 413);
    const tooMany = { metrics: Array.from({ length: 51 }, (_, index) => ({ name: 'm', value: index })) };
    const count = await postJson(`${vigil.url}/ingest/metrics`, tooMany, auth);
    assert.equal(count.status, 413);
    assert.match(String(count.body.message), /at most 50/);
    const notGzip = await fetch(`${vigil.url}/ingest/logs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: 'plain',
    });
    assert.equal(notGzip.status, 400);
    const brotli = await fetch(`${vigil.url}/ingest/logs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'br' },
      body: '{}',
    });
    assert.equal(brotli.status, 415);
    assert.equal(await stored(), before);
  });

  test('__proto__ and constructor in bodies are harmless', async () => {
    const body = '{"events":[{"userId":"u","type":"click","properties":{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}}}],"__proto__":{"polluted":true}}';
    const response = await fetch(`${vigil.url}/ingest/analytics`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body });
    assert.equal(response.status, 202);
    assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  });

  test('no log line per ingested record', async () => {
    const before = vigil.logs.lines.length;
    const metrics = Array.from({ length: 50 }, (_, index) => ({ name: 'per.record', value: index }));
    for (let round = 0; round < 5; round++) assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics }, auth)).status, 202);
    assert.ok(vigil.logs.lines.length - before < 5, `${vigil.logs.lines.length - before} lines for 250 records`);
  });
});

describe('per-key rate limit', () => {
  let vigil: RunningApp;
  before(async () => {
    vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_INGEST_KEYS: 'k1,k2', VIGIL_RATE_LIMIT_MAX: '3', VIGIL_RATE_LIMIT_WINDOW_SECONDS: '60' });
  });
  after(() => vigil.close());

  test('the fourth request of a key in a window answers 429 with Retry-After; another key is unaffected', async () => {
    const body = { metrics: [{ name: 'a', value: 1 }] };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': 'k1' })).status);
    assert.deepEqual(statuses, [202, 202, 202, 429]);
    const limited = await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': 'k1' });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    assert.equal(limited.body.status_code, 429);
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': 'k2' })).status, 202);
    assert.equal((await fetch(`${vigil.url}/health/live`)).status, 200);
  });

  test("unknown keys share their address's bucket: inventing keys does not get past the limit", async () => {
    const body = { metrics: [{ name: 'a', value: 1 }] };
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) statuses.push((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': `made-up-${attempt}` })).status);
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body)).status, 429);
    assert.equal((await postJson(`${vigil.url}/ingest/metrics`, body, { 'x-api-key': 'k2' })).status, 202);
  });
});

describe('protected mode and the metrics key', () => {
  test('without keys everything is open; VIGIL_METRICS_KEY guards /metrics', async () => {
    const vigil = await startApp({ DATABASE_URL: sqliteDatabase().url, VIGIL_METRICS_KEY: 'scrape-secret' });
    try {
      assert.equal(vigil.config.http.host, '127.0.0.1');
      assert.equal((await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'a', value: 1 }] })).status, 202);
      assert.equal((await fetch(`${vigil.url}/metrics`)).status, 401);
      const scrape = await fetch(`${vigil.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } });
      assert.equal(scrape.status, 200);
      const text = await scrape.text();
      assert.match(text, /vigil_ingested_items_total\{kind="metric",outcome="accepted"\} 1/);
      assert.match(text, /vigil_http_request_duration_seconds_bucket\{le="[^"]+",route="\/ingest\/metrics",method="POST",status_class="2xx"\}/);
      assert.match(text, /vigil_nodejs_eventloop_lag_seconds/);
      assert.match(text, /vigil_ingest_commit_duration_seconds_count [1-9]/);
    } finally {
      await vigil.close();
    }
  });

  test('/docs-json documents every ingest endpoint with its body, 202 schema and auth', async () => {
    const vigil = await startApp({ DATABASE_URL: sqliteDatabase().url });
    try {
      const document = (await (await fetch(`${vigil.url}/docs-json`)).json()) as {
        paths: Record<string, { post?: { requestBody?: unknown; responses: Record<string, unknown>; security?: unknown[] } }>;
      };
      for (const path of ['/ingest/metrics', '/ingest/events', '/ingest/logs', '/ingest/requests', '/ingest/analytics']) {
        const post = document.paths[path]?.post;
        assert.ok(post?.requestBody, `${path} has a request body`);
        assert.ok(post.responses['202'] && post.responses['400'] && post.responses['413'] && post.responses['401'], path);
        assert.ok((post.security ?? []).length > 0, `${path} declares auth`);
      }
      assert.equal((await fetch(`${vigil.url}/docs`)).status, 200);
    } finally {
      await vigil.close();
    }
  });
});

describe('readiness', () => {
  test('503 with the failing check named while shutting down; everything but health checks refused with Retry-After', async () => {
    const vigil = await startApp({ DATABASE_URL: sqliteDatabase().url });
    try {
      const ready = await fetch(`${vigil.url}/health/ready`);
      assert.equal(ready.status, 200);
      const { Lifecycle } = await import('../../src/health/health-checks.js');
      vigil.app.get(Lifecycle).beginDraining();
      const draining = await fetch(`${vigil.url}/health/ready`);
      assert.equal(draining.status, 503);
      const body = (await draining.json()) as { status: string; details: Record<string, { status: string }> };
      assert.equal(body.status, 'error');
      assert.equal(body.details['lifecycle']?.status, 'down');
      assert.equal(body.details['storage']?.status, 'up');
      assert.equal((await fetch(`${vigil.url}/health/live`)).status, 200);
      for (const refused of [await postJson(`${vigil.url}/ingest/metrics`, { metrics: [{ name: 'a', value: 1 }] }), await postJson(`${vigil.url}/sla/report`, {})]) {
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get('retry-after'), '5');
        assert.equal(refused.body.status_code, 503);
        assert.match(String(refused.body.message), /shutting down/);
        assert.equal(refused.body.request_id, refused.headers.get('x-request-id'));
      }
    } finally {
      await vigil.close();
    }
  });
});
