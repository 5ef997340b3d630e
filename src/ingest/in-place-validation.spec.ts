import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ITEM_SHAPES, type IngestKind } from '../ingest-log/ingest-log.items.js';
import { storedOrder } from '../ingest-log/item-schema.js';
import { validateItem } from './ingest.validation.js';

const NOW = Date.UTC(2026, 10, 27);
const bounds = { now: NOW };

/** The copying validator's verdict and the in-place one's, on a fresh parse of the same JSON each (raw items are given away). */
function bothVerdicts(kind: IngestKind, json: string) {
  const copied = validateItem(kind, JSON.parse(json), 'items[0]', bounds);
  const raw: unknown = JSON.parse(json);
  const owned = validateItem(kind, raw, 'items[0]', bounds, true);
  return { copied, owned, raw };
}

test('an owned metric item already in stored form is kept as it is; the copy equals it key for key', () => {
  const json = '{"name":"bench.latency","value":101,"type":"gauge","timestamp":1764201600000,"tags":{"host":"h1","endpoint":"/users"}}';
  const { copied, owned, raw } = bothVerdicts('metric', json);
  assert.ok('item' in owned && 'item' in copied);
  assert.equal(owned.item, raw);
  assert.equal(JSON.stringify(copied.item), json);
  assert.equal(JSON.stringify(owned.item), json);
});

test('an owned item not in stored form is copied: absent defaults, moved or extra keys, ISO or fractional times, a histogram, a null', () => {
  const cases: Array<[IngestKind, string]> = [
    ['metric', '{"name":"m","value":1,"timestamp":1764201600000,"tags":{}}'],
    ['metric', '{"value":1,"name":"m","type":"gauge","timestamp":1764201600000,"tags":{}}'],
    ['metric', '{"name":"m","value":1,"type":"gauge","timestamp":1764201600000,"tags":{},"extra":1}'],
    ['metric', '{"name":"m","value":1,"type":"gauge","timestamp":"2025-12-01T00:00:00Z","tags":{}}'],
    ['metric', '{"name":"m","value":1,"type":"gauge","timestamp":1764201600000.5,"tags":{}}'],
    ['metric', '{"name":"m","value":1,"type":"gauge","timestamp":1764201600000,"tags":{},"unit":null}'],
    ['metric', '{"name":"m","value":3,"type":"histogram","timestamp":1764201600000,"tags":{},"histogram":{"count":1,"sum":3,"bounds":[1],"counts":[0,1]}}'],
    ['request', '{"service":"api","durationMs":5,"statusCode":503,"success":true,"timestamp":1764201600000}'],
  ];
  for (const [kind, json] of cases) {
    const { copied, owned, raw } = bothVerdicts(kind, json);
    assert.ok('item' in owned && 'item' in copied, json);
    assert.notEqual(owned.item, raw, json);
    assert.equal(JSON.stringify(owned.item), JSON.stringify(copied.item), json);
  }
});

test('an invalid owned item gets the copying validator\'s message', () => {
  const cases: Array<[IngestKind, string, string]> = [
    ['metric', '{"name":"m","value":"1","type":"gauge","timestamp":1764201600000,"tags":{}}', 'items[0].value must be a finite number'],
    ['metric', '{"name":"m","value":1,"type":"gauge","timestamp":1764201600000,"tags":{"a":1}}', 'items[0].tags.a must be a string'],
    ['metric', '{"name":"m","value":1,"type":"histogram","timestamp":1764201600000,"tags":{}}', 'items[0].histogram is required when type is histogram, and only then'],
    ['analytics', '{"userId":"u","type":"page_view","timestamp":1764201600000}', 'items[0].page is required when type is page_view'],
  ];
  for (const [kind, json, message] of cases) {
    const { copied, owned } = bothVerdicts(kind, json);
    assert.deepEqual(copied, { error: message });
    assert.deepEqual(owned, { error: message });
  }
});

// Raw metric items in and out of stored form: keys in stored order or shuffled, some left out, odd values.
const anyValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string({ maxLength: 6 }), fc.constant('2025-12-01T00:00:00Z'));
const rawMetricJson = fc
  .record(
    {
      name: fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,12}$/), anyValue),
      value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), anyValue),
      type: fc.oneof(fc.constantFrom('gauge', 'count', 'distribution', 'histogram'), anyValue),
      timestamp: fc.oneof(fc.integer({ min: 946_684_800_000, max: NOW }), fc.double({ min: 946_684_800_000, max: NOW, noNaN: true }), anyValue),
      tags: fc.oneof(fc.dictionary(fc.constantFrom('host', 'a', '__proto__', 'constructor', 'x"y'), fc.oneof(fc.string({ maxLength: 5 }), anyValue), { maxKeys: 4 }), anyValue),
      unit: fc.oneof(fc.constantFrom('ms', ''), anyValue),
      extra: anyValue,
    },
    { requiredKeys: [] },
  )
  .chain((item) => fc.shuffledSubarray(Object.keys(item), { minLength: 0 }).map((keys) => ({ item, keys })))
  .chain(({ item, keys }) =>
    fc.boolean().map((stored) => {
      const order = stored ? storedOrder(ITEM_SHAPES.metric).filter((key) => keys.includes(key)) : keys;
      return JSON.stringify(Object.fromEntries(order.map((key) => [key, (item as Record<string, unknown>)[key]])));
    }),
  );

// Metric items mostly in stored form (every always-present field valid), with an optional unit.
const storedMetricJson = fc
  .record(
    {
      name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,12}$/),
      value: fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
      type: fc.constantFrom('gauge', 'count', 'distribution', 'histogram'),
      timestamp: fc.oneof(fc.integer({ min: 946_684_800_000, max: NOW }), anyValue),
      tags: fc.dictionary(fc.constantFrom('host', 'a', '__proto__', 'constructor', 'x"y', ''), fc.oneof(fc.string({ maxLength: 5 }), fc.constant('\u0000')), { maxKeys: 4 }),
      unit: fc.constantFrom('ms', '', '\u0000'),
    },
    { requiredKeys: ['name', 'value', 'type', 'timestamp', 'tags'] },
  )
  .map((item) => JSON.stringify(item));

test('on any raw metric item, in-place validation gives what copying gives: the same text, or the same message', () => {
  let keptAsIs = 0;
  fc.assert(
    fc.property(fc.oneof(rawMetricJson, storedMetricJson), (json) => {
      const { copied, owned, raw } = bothVerdicts('metric', json);
      if ('error' in copied) return assert.deepEqual(owned, copied);
      assert.ok('item' in owned);
      assert.equal(JSON.stringify(owned.item), JSON.stringify(copied.item));
      assert.deepEqual(owned.item, copied.item);
      if (owned.item === raw) keptAsIs++;
    }),
    { numRuns: 5_000 },
  );
  // The generator reaches the in-place path, not only the copy.
  assert.ok(keptAsIs > 0);
});
