import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import type { IngestKind } from '../storage/database.js';
import { AnalyticsEventDto, EventDto, LogDto, MetricDto, RequestRecordDto } from './ingest.dto.js';
import { BatchPosition, validateItem } from './ingest.validation.js';

const DTO: Record<IngestKind, ClassConstructor<object>> = {
  metric: MetricDto,
  event: EventDto,
  log: LogDto,
  request: RequestRecordDto,
  analytics: AnalyticsEventDto,
};

function dtoAccepts(kind: IngestKind, raw: Record<string, unknown>): boolean {
  return validateSync(plainToInstance(DTO[kind], raw), { forbidUnknownValues: false }).length === 0;
}

function checkerAccepts(kind: IngestKind, raw: Record<string, unknown>): boolean {
  return 'item' in validateItem(kind, raw, 'item', Date.now());
}

const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: 1 } : { next: nested(depth - 1) });
const now = Date.now();

/** Values that probe every rule: right and wrong types, bounds, and edge strings. */
const PROBES: unknown[] = [
  undefined, null, 0, -1, 1.5, 100, 599, 600, 99, Number.MAX_VALUE, true, false, '', 'a', 'x'.repeat(100), 'x'.repeat(101),
  'x'.repeat(4001), 'api.response_time', '9bad', 'page_view', 'gauge', 'count', 'distribution', 'histogram', 'info',
  'warning', 'error', 'success', 'debug', 'warn', 'fatal', '2026-01-01T00:00:00Z', '2026-01-01', 'yesterday', now,
  now + 11 * 60_000, {}, { a: 'b' }, { a: 1 }, { '': 'x' }, [], ['a'], nested(8), nested(9),
  Object.fromEntries(Array.from({ length: 33 }, (_, index) => [`k${index}`, 'v'])),
];

const FIELDS: Record<IngestKind, string[]> = {
  metric: ['name', 'value', 'type', 'timestamp', 'tags', 'unit'],
  event: ['title', 'text', 'alertType', 'tags', 'timestamp', 'source'],
  log: ['message', 'level', 'timestamp', 'service', 'attributes', 'traceId', 'requestId', 'userId', 'durationMs'],
  request: ['service', 'operation', 'durationMs', 'statusCode', 'success', 'timestamp'],
  analytics: ['userId', 'sessionId', 'type', 'page', 'properties', 'timestamp'],
};

const VALID: Record<IngestKind, Record<string, unknown>> = {
  metric: { name: 'api.response_time', value: 12.5, type: 'distribution', tags: { endpoint: '/users' }, unit: 'ms', timestamp: now },
  event: { title: 'Deploy', text: 'v2', alertType: 'success', tags: {}, source: 'ci', timestamp: '2026-01-01T00:00:00Z' },
  log: { message: 'hi', level: 'warn', service: 'api', attributes: { a: { b: 1 } }, traceId: 't', requestId: 'r', userId: 'u', durationMs: 3 },
  request: { service: 'api', operation: 'GET /users', durationMs: 120, statusCode: 503, timestamp: now },
  analytics: { userId: 'u1', sessionId: 's1', type: 'page_view', page: '/pricing', properties: { plan: 'pro' } },
};

describe('compiled item checkers agree with the class-validator DTOs', () => {
  for (const kind of Object.keys(DTO) as IngestKind[]) {
    test(`${kind}: every field set to every probe value`, () => {
      assert.equal(checkerAccepts(kind, VALID[kind]), true);
      assert.equal(dtoAccepts(kind, VALID[kind]), true);
      for (const field of FIELDS[kind]) {
        for (const probe of PROBES) {
          const raw = { ...VALID[kind], [field]: probe };
          if (probe === undefined) delete raw[field];
          assert.equal(checkerAccepts(kind, raw), dtoAccepts(kind, raw), `${kind}.${field} = ${JSON.stringify(probe)?.slice(0, 60)}`);
        }
      }
    });

    test(`${kind}: random combinations of probe values`, () => {
      const fieldValue = fc.constantFrom(...PROBES);
      const item = fc.record(Object.fromEntries(FIELDS[kind].map((field) => [field, fieldValue])), { requiredKeys: [] });
      fc.assert(
        fc.property(item, (raw) => checkerAccepts(kind, raw as Record<string, unknown>) === dtoAccepts(kind, raw as Record<string, unknown>)),
        { numRuns: 2000, seed: 7 },
      );
    });
  }
});

describe('checker messages and normalisation', () => {
  test('messages name the field path', () => {
    assert.deepEqual(validateItem('metric', { name: 'a', value: Infinity }, 'metrics[3]', now), { error: 'metrics[3].value must be a finite number' });
    assert.deepEqual(validateItem('analytics', { userId: 'u', type: 'page_view' }, 'events[0]', now), {
      error: 'events[0].page is required when type is page_view',
    });
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, timestamp: now + 11 * 60_000 }, 'metrics[0]', now), {
      error: 'metrics[0].timestamp must not be more than 10 minutes in the future',
    });
  });

  test('one BatchPosition names each item of a batch by its own index', () => {
    const position = new BatchPosition('metrics');
    const batch: unknown[] = [{ name: 'a', value: 1 }, 7, { name: 'a', value: 1, timestamp: 'soon' }, { name: 'a', value: 1, tags: { host: 5 } }];
    const messages = batch.map((raw, index) => {
      position.index = index;
      const verdict = validateItem('metric', raw, position, now);
      return 'error' in verdict ? verdict.error : 'valid';
    });
    assert.deepEqual(messages, [
      'valid',
      'metrics[1] must be an object',
      'metrics[2].timestamp must be epoch milliseconds (a number) or an ISO 8601 string',
      'metrics[3].tags.host must be a string',
    ]);
  });

  test('defaults, ISO timestamps and success derivation', () => {
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, extra: 'dropped' }, 'm', now), {
      item: { name: 'a', value: 1, type: 'gauge', timestamp: now, tags: {} },
    });
    const iso = validateItem('event', { title: 't', timestamp: '2025-03-04T05:06:07.089Z' }, 'e', now);
    assert.deepEqual(iso, { item: { title: 't', text: '', alertType: 'info', tags: {}, timestamp: Date.UTC(2025, 2, 4, 5, 6, 7, 89) } });
    const request = (raw: Record<string, unknown>) => (validateItem('request', { service: 's', durationMs: 1, ...raw }, 'r', now) as { item: { success: boolean } }).item.success;
    assert.equal(request({ statusCode: 500, success: true }), false);
    assert.equal(request({ statusCode: 404, success: false }), true);
    assert.equal(request({ success: false }), false);
    assert.equal(request({}), true);
  });

  test('__proto__ and constructor keys stay plain data', () => {
    const raw = JSON.parse('{"name":"a","value":1,"tags":{"__proto__":"x","constructor":"y"}}') as Record<string, unknown>;
    const verdict = validateItem('metric', raw, 'm', now) as { item: { tags: Record<string, string> } };
    assert.equal(Object.getPrototypeOf(verdict.item.tags), Object.prototype);
    assert.equal(verdict.item.tags['constructor'], 'y');
    assert.equal(Object.getOwnPropertyDescriptor(verdict.item.tags, '__proto__')?.value, 'x');
    assert.equal(JSON.stringify(verdict.item.tags), '{"__proto__":"x","constructor":"y"}');
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
});

describe('timestamps', () => {
  test('a zone-less ISO date-time is UTC; offsets are honoured; dates are midnight UTC', () => {
    const at = (timestamp: string) => (validateItem('metric', { name: 'a', value: 1, timestamp }, 'm', now) as { item: { timestamp: number } }).item.timestamp;
    assert.equal(at('2025-03-04T05:06:07'), Date.UTC(2025, 2, 4, 5, 6, 7));
    assert.equal(at('2025-03-04T05:06:07+02:00'), Date.UTC(2025, 2, 4, 3, 6, 7));
    assert.equal(at('2025-03-04'), Date.UTC(2025, 2, 4));
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, timestamp: '2025-13-45' }, 'm', now), {
      error: 'm.timestamp must be epoch milliseconds (a number) or an ISO 8601 string',
    });
  });
});
