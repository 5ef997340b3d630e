import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bulkOperations, dailyIndex, documentId, toDocument } from '../../src/logs/elasticsearch/elasticsearch.encoding.js';
import { classifyBulkResponse, type BulkResponseBody } from '../../src/logs/elasticsearch/elasticsearch.results.js';
import { indexTemplate } from '../../src/logs/elasticsearch/elasticsearch.template.js';
import { logEntry } from './log-entries.js';

describe('Elasticsearch encoding', () => {
  test('daily index by the log’s own timestamp in UTC', () => {
    assert.equal(dailyIndex('vigil-logs', Date.UTC(2026, 0, 1, 0, 0, 0)), 'vigil-logs-2026.01.01');
    assert.equal(dailyIndex('vigil-logs', Date.UTC(2025, 11, 31, 23, 59, 59, 999)), 'vigil-logs-2025.12.31');
    assert.equal(dailyIndex('x', Date.UTC(2024, 1, 29, 13)), 'x-2024.02.29');
  });

  test('every document has the original fields, absent ones null', () => {
    const full = toDocument(
      { message: 'paid', level: 'warn', timestamp: Date.UTC(2026, 2, 4, 5, 6, 7, 89), service: 'billing', attributes: { order: 7 }, traceId: 't1', requestId: 'r1', userId: 'u1', durationMs: 12.5 },
      'staging',
    );
    assert.deepEqual(full, {
      '@timestamp': '2026-03-04T05:06:07.089Z',
      message: 'paid',
      level: 'warn',
      service: 'billing',
      environment: 'staging',
      user_id: 'u1',
      request_id: 'r1',
      trace_id: 't1',
      duration_ms: 12.5,
      attributes: { order: 7 },
    });
    const bare = toDocument({ message: 'hi', level: 'info', timestamp: 0 }, 'production');
    assert.deepEqual(bare, {
      '@timestamp': '1970-01-01T00:00:00.000Z',
      message: 'hi',
      level: 'info',
      service: null,
      environment: 'production',
      user_id: null,
      request_id: null,
      trace_id: null,
      duration_ms: null,
      attributes: {},
    });
  });

  test('_id is the same for every read of the same entry and differs between entries', () => {
    const item = { message: 'a', level: 'info' as const, timestamp: 1_700_000_000_000, attributes: { nested: { x: 1.1, y: [1, 'b'] } } };
    const first = documentId(logEntry(42, item, 1_700_000_000_500));
    // A redelivery reads the stored JSON again.
    assert.equal(documentId(logEntry(42, JSON.parse(JSON.stringify(item)), 1_700_000_000_500)), first);
    assert.match(first, /^42-[A-Za-z0-9_-]{16}$/);
    assert.notEqual(documentId(logEntry(43, item, 1_700_000_000_500)), first, 'another entry with the same content');
    assert.notEqual(documentId(logEntry(42, item, 1_700_000_000_501)), first, 'same id in a recreated store, received at another time');
    assert.notEqual(documentId(logEntry(42, { ...item, message: 'b' }, 1_700_000_000_500)), first, 'same id, other content');
  });

  test('bulk operations: a create action and a document per entry, in batch order', () => {
    const entries = [
      logEntry(1, { message: 'one', level: 'info', timestamp: Date.UTC(2026, 0, 1, 23, 59) }),
      logEntry(2, { message: 'two', level: 'error', timestamp: Date.UTC(2026, 0, 2, 0, 1) }),
    ];
    const operations = bulkOperations(entries, 'p', 'env');
    assert.equal(operations.length, 4);
    assert.deepEqual(operations[0], { create: { _index: 'p-2026.01.01', _id: documentId(entries[0]!) } });
    assert.equal((operations[1] as { message: string }).message, 'one');
    assert.deepEqual(operations[2], { create: { _index: 'p-2026.01.02', _id: documentId(entries[1]!) } });
    assert.equal((operations[3] as { level: string }).level, 'error');
  });

  test('index template: original mapping for <prefix>-*', () => {
    const template = indexTemplate('vigil-logs');
    assert.deepEqual(template.index_patterns, ['vigil-logs-*']);
    const properties = template.template.mappings.properties;
    assert.equal(properties['@timestamp'].type, 'date');
    assert.equal(properties.message.type, 'text');
    for (const field of ['level', 'service', 'environment', 'user_id', 'request_id', 'trace_id'] as const) assert.equal(properties[field].type, 'keyword', field);
    assert.equal(properties.duration_ms.type, 'float');
  });
});

describe('Elasticsearch _bulk results', () => {
  const ok = { create: { status: 201 } };
  test('no errors: delivered', () => {
    assert.deepEqual(classifyBulkResponse({ errors: false, items: [ok, ok] }, 2), { outcome: 'delivered' });
  });

  test('409 on create counts as delivered', () => {
    const body: BulkResponseBody = { errors: true, items: [ok, { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } }] };
    assert.deepEqual(classifyBulkResponse(body, 2), { outcome: 'delivered' });
  });

  test('per item: 429 throttled, 5xx retryable, 403/404 retried as configuration, mapping errors permanent with Elasticsearch’s reason', () => {
    const body: BulkResponseBody = {
      errors: true,
      items: [
        ok,
        { create: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation' } } },
        { create: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' } } },
        {
          create: {
            status: 400,
            error: {
              type: 'document_parsing_exception',
              reason: '[1:42] failed to parse field [duration_ms] of type [float]',
              caused_by: { type: 'number_format_exception', reason: 'For input string: "slow"' },
            },
          },
        },
        { create: { status: 409 } },
        { create: { status: 403, error: { type: 'security_exception', reason: 'action [indices:data/write/bulk[s]] is unauthorized for user [vigil]' } } },
        { create: { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index [vigil-logs-2026.01.01]' } } },
      ],
    };
    assert.deepEqual(classifyBulkResponse(body, 7), {
      outcome: 'partial',
      items: [
        { outcome: 'delivered' },
        { outcome: 'throttled', reason: 'es_rejected_execution_exception: rejected execution of coordinating operation', status: 429 },
        { outcome: 'retryable', reason: 'unavailable_shards_exception: primary shard is not active', status: 503 },
        {
          outcome: 'permanent',
          reason: 'document_parsing_exception: [1:42] failed to parse field [duration_ms] of type [float] (caused by number_format_exception: For input string: "slow")',
          status: 400,
        },
        { outcome: 'delivered' },
        { outcome: 'retryable', reason: 'security_exception: action [indices:data/write/bulk[s]] is unauthorized for user [vigil]', status: 403, cause: 'configuration' },
        { outcome: 'retryable', reason: 'index_not_found_exception: no such index [vigil-logs-2026.01.01]', status: 404, cause: 'configuration' },
      ],
    });
  });

  test('an answer whose items do not match the batch is retried whole', () => {
    const result = classifyBulkResponse({ errors: true, items: [ok] }, 2);
    assert.equal(result.outcome, 'retryable');
  });
});
