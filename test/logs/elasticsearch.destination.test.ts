import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { ManualClock } from '../../src/common/clock.js';
import type { ElasticsearchConfig } from '../../src/logs/elasticsearch/elasticsearch.plugin.js';
import { ElasticsearchDestination, elasticsearchClientOptions } from '../../src/logs/elasticsearch/elasticsearch.destination.js';
import { documentId } from '../../src/logs/elasticsearch/elasticsearch.encoding.js';
import { TEMPLATE_VERSION } from '../../src/logs/elasticsearch/elasticsearch.template.js';
import { FakeElasticsearch } from '../fakes/elasticsearch.fake.js';
import { logEntries, logEntry } from './log-entries.js';

describe('Elasticsearch destination through the official client', () => {
  const fake = new FakeElasticsearch();
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
  let config: ElasticsearchConfig;
  let destination: ElasticsearchDestination;
  const signal = new AbortController().signal;

  before(async () => {
    config = { url: await fake.start(), indexPrefix: 'vigil-logs', username: 'elastic', password: 'secret-password' };
    destination = new ElasticsearchDestination(config, 'test-env', clock);
  });
  after(async () => {
    await destination.close();
    await fake.stop();
  });
  beforeEach(() => {
    fake.indices.clear();
    fake.attempts.clear();
    fake.itemFault = undefined;
    fake.requestFaults.length = 0;
  });

  test('prepare() installs the index template once, and again only over an older version', async () => {
    await destination.prepare(signal);
    assert.equal(fake.stats.templatePuts, 1);
    const installed = fake.templates.get('vigil-logs') as { index_patterns: string[]; version: number; template: { mappings: { properties: Record<string, { type: string }> } } };
    assert.deepEqual(installed.index_patterns, ['vigil-logs-*']);
    assert.equal(installed.template.mappings.properties['duration_ms']!.type, 'float');
    await destination.prepare(signal);
    assert.equal(fake.stats.templatePuts, 1, 'same version: left alone');
    fake.templates.set('vigil-logs', { ...installed, version: TEMPLATE_VERSION - 1 });
    await destination.prepare(signal);
    assert.equal(fake.stats.templatePuts, 2, 'older version: replaced');
  });

  test('sends basic auth (or an API key) and no secrets elsewhere', async () => {
    fake.requestHeaders.length = 0;
    await destination.send(logEntries(1), signal);
    assert.equal(fake.requestHeaders[0]!['authorization'], `Basic ${Buffer.from('elastic:secret-password').toString('base64')}`);
    const withKey = elasticsearchClientOptions({ ...config, apiKey: 'key-123' });
    assert.deepEqual(withKey.auth, { apiKey: 'key-123' });
    assert.equal(withKey.maxRetries, 0);
  });

  test('delivers a batch into daily indices with deterministic ids; a resend creates nothing new', async () => {
    const entries = [
      logEntry(1, { message: 'late', level: 'info', timestamp: Date.UTC(2026, 0, 1, 23, 59, 59, 999), service: 'api', durationMs: 3 }),
      logEntry(2, { message: 'early', level: 'error', timestamp: Date.UTC(2026, 0, 2), userId: 'u9', attributes: { a: 1 } }),
    ];
    assert.deepEqual(await destination.send(entries, signal), { outcome: 'delivered' });
    assert.deepEqual([...fake.indices.keys()].sort(), ['vigil-logs-2026.01.01', 'vigil-logs-2026.01.02']);
    const stored = fake.indices.get('vigil-logs-2026.01.02')!.get(documentId(entries[1]!));
    assert.deepEqual(stored, {
      '@timestamp': '2026-01-02T00:00:00.000Z',
      message: 'early',
      level: 'error',
      service: null,
      environment: 'test-env',
      user_id: 'u9',
      request_id: null,
      trace_id: null,
      duration_ms: null,
      attributes: { a: 1 },
    });
    const conflictsBefore = fake.stats.conflicts;
    assert.deepEqual(await destination.send(entries, signal), { outcome: 'delivered' });
    assert.equal(fake.stats.conflicts - conflictsBefore, 2);
    assert.equal(fake.documentCount, 2);
  });

  test('per-item 429, 5xx and mapping errors come back as a partial result in batch order', async () => {
    const entries = logEntries(5, 100);
    const faults = new Map([
      [documentId(entries[1]!), { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } }],
      [documentId(entries[2]!), { status: 503, error: { type: 'unavailable_shards_exception', reason: 'no primary' } }],
      [documentId(entries[3]!), { status: 400, error: { type: 'document_parsing_exception', reason: 'failed to parse field [level]' } }],
    ]);
    fake.itemFault = (operation) => faults.get(operation.id);
    const result = await destination.send(entries, signal);
    assert.deepEqual(result, {
      outcome: 'partial',
      items: [
        { outcome: 'delivered' },
        { outcome: 'throttled', reason: 'es_rejected_execution_exception: queue full', status: 429 },
        { outcome: 'retryable', reason: 'unavailable_shards_exception: no primary', status: 503 },
        { outcome: 'permanent', reason: 'document_parsing_exception: failed to parse field [level]', status: 400 },
        { outcome: 'delivered' },
      ],
    });
    assert.equal(fake.documentCount, 2);
    // The core resends the retryable ones alone; now they go through.
    fake.itemFault = undefined;
    assert.deepEqual(await destination.send([entries[1]!, entries[2]!], signal), { outcome: 'delivered' });
    assert.equal(fake.documentCount, 4);
  });

  test('whole-request answers: 503 retryable, 503 or 429 with Retry-After throttled, 413 too large, 401 retried as configuration, 400 permanent', async () => {
    const batch = logEntries(2, 500);
    fake.requestFaults.push({ status: 503 });
    assert.deepEqual(await destination.send(batch, signal), { outcome: 'retryable', reason: 'Elasticsearch answered 503: fake_fault: injected 503', status: 503 });
    fake.requestFaults.push({ status: 503, headers: { 'retry-after': '7' } });
    const throttled = await destination.send(batch, signal);
    assert.equal(throttled.outcome, 'throttled');
    assert.equal((throttled as { retryAfterMs?: number }).retryAfterMs, 7000);
    fake.requestFaults.push({ status: 429, headers: { 'retry-after': '2' } });
    assert.deepEqual(await destination.send(batch, signal), {
      outcome: 'throttled',
      reason: 'Elasticsearch answered 429: fake_fault: injected 429',
      status: 429,
      retryAfterMs: 2000,
    });
    fake.requestFaults.push({ status: 413 });
    assert.equal((await destination.send(batch, signal)).outcome, 'too_large');
    fake.requestFaults.push({ status: 401, body: { error: { type: 'security_exception', reason: 'unable to authenticate user [elastic]' }, status: 401 } });
    assert.deepEqual(await destination.send(batch, signal), {
      outcome: 'retryable',
      reason: 'Elasticsearch answered 401: security_exception: unable to authenticate user [elastic]',
      status: 401,
      cause: 'configuration',
    });
    fake.requestFaults.push({ status: 400, body: { error: { type: 'illegal_argument_exception', reason: 'unknown parameter' }, status: 400 } });
    assert.deepEqual(await destination.send(batch, signal), {
      outcome: 'permanent',
      reason: 'Elasticsearch answered 400: illegal_argument_exception: unknown parameter',
      status: 400,
    });
    assert.equal(fake.documentCount, 0);
  });

  test('unreachable Elasticsearch: retryable, not thrown; an abort throws', async () => {
    const unreachable = new ElasticsearchDestination({ url: 'http://127.0.0.1:1', indexPrefix: 'x' }, 'e', clock);
    const result = await unreachable.send(logEntries(1), signal);
    assert.equal(result.outcome, 'retryable');
    assert.match((result as { reason: string }).reason, /ConnectionError/);
    await unreachable.close();
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(destination.send(logEntries(1), controller.signal));
  });
});
