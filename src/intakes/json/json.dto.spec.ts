import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import 'reflect-metadata';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync } from 'class-validator';
import fc from 'fast-check';
import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import { validateItem } from '../../ingest/ingest.validation.js';
import { AnalyticsEventDto, EventDto, LogDto, MetricDto, RequestRecordDto } from './json.dto.js';

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
  return 'item' in validateItem(kind, raw, 'item', { now: Date.now() });
}

const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: 1 } : { next: nested(depth - 1) });
const now = Date.now();

/** Values that probe every rule: right and wrong types, bounds, and edge strings. */
const PROBES: unknown[] = [
  undefined, null, 0, -1, 1.5, 100, 599, 600, 99, Number.MAX_VALUE, true, false, '', 'a', 'x'.repeat(100), 'x'.repeat(101),
  'x'.repeat(4001), 'api.response_time', '9bad', 'page_view', 'gauge', 'count', 'distribution', 'histogram', 'info',
  'warning', 'error', 'success', 'debug', 'warn', 'fatal', '2026-01-01T00:00:00Z', '2026-01-01', 'yesterday', now,
  now + 11 * 60_000, 946_684_799_999, 946_684_800_000, 1_767_225_600, 1_767_225_600_000_000, '1999-12-31T23:59:59Z', '2026-02-30T00:00:00Z',
  '2028-02-29', '2026-01-01T24:00:00Z', 1e18, 1.5e18, -1.5e18, 86_400_000, 86_400_001, '\ud800', 'a\udc00b', '\ud83d\ude00', 'a\nb',
  '\u001b[31mred', 'x\u0085y', 'tab\there', { a: '\u0007' }, { 'k\ud800': 'v' }, {}, { a: 'b' }, { a: 1 }, { '': 'x' }, [], ['a'], nested(8), nested(9),
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
