import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ITEM_SHAPES, type IngestKind } from '../ingest-log/ingest-log.items.js';
import { documentedFields } from './item-openapi.js';
import { validateItem } from './ingest.validation.js';

/**
 * The OpenAPI schemas and the validator come from one shape per kind; these tests hold the
 * documentation generator to the validator: whatever the document refuses, validation
 * refuses too (the document may say less: lone surrogates, the timestamp window and
 * cross-field rules are only described), and where the document can say everything
 * (numbers, integers, enums, the metric name) both give the same verdict.
 */

const now = Date.now();
const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? { leaf: 1 } : { next: nested(depth - 1) });

/** Values that probe every rule: right and wrong types, bounds, and edge strings. */
const PROBES: unknown[] = [
  null, 0, -1, 1.5, 150.5, 100, 599, 600, 99, Number.MAX_VALUE, true, false, '', 'a', 'x'.repeat(32), 'x'.repeat(33), 'x'.repeat(100), 'x'.repeat(101),
  'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(4001), 'api.response_time', '9bad', 'page_view', 'gauge', 'count', 'distribution', 'histogram',
  'info', 'warning', 'error', 'success', 'debug', 'warn', 'fatal', '2026-01-01T00:00:00Z', 'yesterday', now, now + 11 * 60_000, 946_684_799_999,
  1e18, 1.5e18, -1.5e18, 86_400_000, 86_400_001, '\ud800', 'a\nb', '\u001b[31mred', 'x\u0085y', { a: 'b' }, { a: 1 }, {}, [], ['a'], nested(8), nested(9),
];

const VALID: Record<IngestKind, Record<string, unknown>> = {
  metric: { name: 'api.response_time', value: 12.5, type: 'distribution', tags: { endpoint: '/users' }, unit: 'ms', timestamp: now },
  event: { title: 'Deploy', text: 'v2', alertType: 'success', tags: {}, source: 'ci', timestamp: '2026-01-01T00:00:00Z' },
  log: { message: 'hi', level: 'warn', timestamp: now, service: 'api', attributes: { a: { b: 1 } }, traceId: 't', requestId: 'r', userId: 'u', durationMs: 3 },
  request: { service: 'api', operation: 'GET /users', durationMs: 120, statusCode: 503, success: false, timestamp: now },
  analytics: { userId: 'u1', sessionId: 's1', type: 'click', page: '/pricing', properties: { plan: 'pro' }, timestamp: now },
};
const KINDS = Object.keys(ITEM_SHAPES) as IngestKind[];
/**
 * Fields VALID leaves out because a cross-field rule allows them only with another value (a
 * metric's `histogram` only with type `histogram`), and those values of other fields that the
 * rule refuses without them: documented as valid, refused by validation.
 */
const CROSS_FIELD: Record<string, { absentFromValid: string[]; refusedAlone: Array<[string, unknown]> }> = {
  metric: { absentFromValid: ['histogram'], refusedAlone: [['type', 'histogram']] },
};
const refusedAlone = (kind: string, field: string, probe: unknown) => (CROSS_FIELD[kind]?.refusedAlone ?? []).some(([name, value]) => name === field && value === probe);

/** The verdict of a field's OpenAPI schema on a value, for the keywords item-openapi.ts writes. */
function documentAccepts(schema: Record<string, unknown>, value: unknown): boolean {
  if (value === null || value === undefined) return true; // every field but the required ones may be absent; null reads as absent
  if (schema['oneOf'] !== undefined) return (schema['oneOf'] as Array<Record<string, unknown>>).some((option) => documentAccepts(option, value));
  switch (schema['type']) {
    case 'string':
      if (typeof value !== 'string') return false;
      if (schema['enum'] !== undefined && !(schema['enum'] as string[]).includes(value)) return false;
      if (value.length < ((schema['minLength'] as number | undefined) ?? 0) || value.length > ((schema['maxLength'] as number | undefined) ?? Infinity)) return false;
      return schema['pattern'] === undefined || new RegExp(schema['pattern'] as string, 'u').test(value);
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value) || (schema['type'] === 'integer' && !Number.isInteger(value))) return false;
      return value >= ((schema['minimum'] as number | undefined) ?? -Infinity) && value <= ((schema['maximum'] as number | undefined) ?? Infinity);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return false;
      return typeof schema['additionalProperties'] !== 'object' || Object.values(value).every((entry) => documentAccepts(schema['additionalProperties'] as Record<string, unknown>, entry));
    default:
      throw new Error(`no evaluator for ${JSON.stringify(schema)}`);
  }
}

const accepts = (kind: IngestKind, raw: Record<string, unknown>) => 'item' in validateItem(kind, raw, 'item', { now });
/** Fields whose every rule the document states; for strings, on values of plain ASCII letters. */
const FULLY_DOCUMENTED = new Set(['number', 'integer', 'enum', 'pattern', 'boolean']);
const fullyDocumented = (type: string, probe: unknown) => FULLY_DOCUMENTED.has(type) || (type === 'string' && typeof probe === 'string' && /^[a-z]*$/.test(probe));

describe('the OpenAPI schemas of items agree with item validation', () => {
  for (const kind of KINDS) {
    const fields = documentedFields(kind);

    test(`${kind}: the document names every field of the shape, and the required ones`, () => {
      assert.deepEqual(fields.map((field) => field.name).sort(), [...Object.keys(VALID[kind]), ...(CROSS_FIELD[kind]?.absentFromValid ?? [])].sort());
      assert.equal(accepts(kind, VALID[kind]), true);
      for (const field of fields) {
        const { [field.name]: _removed, ...without } = VALID[kind];
        assert.equal(accepts(kind, without), !field.required, `${kind} without ${field.name}`);
      }
    });

    test(`${kind}: a value the document refuses is refused; where the document says all, the verdicts match`, () => {
      for (const field of fields) {
        const type = ITEM_SHAPES[kind].fields[field.name as never] as { type: string };
        for (const probe of PROBES) {
          const documented = documentAccepts(field.schema, probe) && !(field.required && probe === null);
          const validated = accepts(kind, { ...VALID[kind], [field.name]: probe });
          const label = `${kind}.${field.name} = ${JSON.stringify(probe)?.slice(0, 40)}`;
          if (!documented) assert.equal(validated, false, label);
          if (fullyDocumented(type.type, probe) && !refusedAlone(kind, field.name, probe)) assert.equal(validated, documented, label);
        }
      }
    });

    test(`${kind}: random items: a document refusal is a validation refusal`, () => {
      const item = fc.record(Object.fromEntries(fields.map((field) => [field.name, fc.constantFrom(...PROBES)])), { requiredKeys: [] });
      fc.assert(
        fc.property(item, (raw) => {
          const record = { ...VALID[kind], ...(raw as Record<string, unknown>) };
          const documented = fields.every((field) => documentAccepts(field.schema, record[field.name]) && !(field.required && record[field.name] === null));
          return documented || !accepts(kind, record);
        }),
        { numRuns: 2000, seed: 7 },
      );
    });
  }
});
