import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { itemJson, itemsJson, METRIC_FAST_PATH } from './item-json.js';
import { keyStringProblem } from '../common/key-string.js';
import { validateItem } from './ingest.validation.js';

const NOW = Date.UTC(2026, 10, 27);

// Strings with what JSON must escape: quotes, backslashes, control characters, lone and paired surrogates.
const anyAwkwardString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('"', '\\', '\u0000', '\n', '\u001f', '\u2028', '\ud800', '\udfff', '😀', 'a"b\\c', '__proto__', 'constructor', '0', '12'),
);
// What validation lets through into tags and units: no control characters or lone surrogates, so
// the fast path meets quotes, backslashes, U+2028, paired surrogates and key-like names.
const awkwardString = anyAwkwardString.filter((text) => keyStringProblem(text) === null);

const rawMetric = fc.record(
  {
    name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,30}$/),
    value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.constantFrom(-0, 1e21, 5e-324, Number.MAX_VALUE)),
    type: fc.constantFrom('gauge', 'count', 'distribution'),
    timestamp: fc.integer({ min: 946_684_800_000, max: NOW }),
    tags: fc.dictionary(awkwardString.filter((key) => key.length > 0), awkwardString, { maxKeys: 6 }),
    unit: awkwardString,
  },
  { requiredKeys: ['name', 'value'] },
);

test('the metric fast path writes the metric shape as it is (else: bring metricJson up to date with the shape)', () => {
  assert.equal(METRIC_FAST_PATH, true);
});

test('a validated metric item is written exactly as JSON.stringify writes it', () => {
  fc.assert(
    fc.property(rawMetric, (raw) => {
      const verdict = validateItem('metric', raw, 'metrics[0]', { now: NOW });
      if (!('item' in verdict)) return;
      assert.equal(itemJson('metric', verdict.item), JSON.stringify(verdict.item));
    }),
    { numRuns: 5_000 },
  );
});

test('a __proto__ tag is written as a key like any other', () => {
  const verdict = validateItem('metric', JSON.parse('{"name":"m","value":1,"timestamp":1767225600000,"tags":{"a":"1","__proto__":"x"}}'), 'metrics[0]', { now: NOW });
  assert.ok('item' in verdict);
  assert.equal(itemJson('metric', verdict.item), '{"name":"m","value":1,"type":"gauge","timestamp":1767225600000,"tags":{"a":"1","__proto__":"x"}}');
});

test('other kinds are written by JSON.stringify', () => {
  const verdict = validateItem('log', { message: 'a "quoted" line', level: 'warn', timestamp: 1767225600007, attributes: { nested: { depth: [1, 2] } } }, 'logs[0]', { now: NOW });
  assert.ok('item' in verdict);
  assert.equal(itemJson('log', verdict.item), JSON.stringify(verdict.item));
});

test('a batch of validated metric items is written item by item exactly as JSON.stringify writes each', () => {
  const boundaryLike = fc.constantFrom('},{"name":', '"},{"name":"', '}\n{', ',');
  const tagValue = fc.oneof(awkwardString, boundaryLike);
  const batchItem = fc.record(
    {
      name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,12}$/),
      value: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer()),
      type: fc.constantFrom('gauge', 'count', 'distribution'),
      timestamp: fc.integer({ min: 946_684_800_000, max: NOW }),
      tags: fc.dictionary(fc.oneof(awkwardString, boundaryLike).filter((key) => key.length > 0), tagValue, { maxKeys: 4 }),
      unit: awkwardString,
    },
    { requiredKeys: ['name', 'value'] },
  );
  fc.assert(
    fc.property(fc.array(batchItem, { minLength: 0, maxLength: 12 }), (raws) => {
      const items = raws.map((raw) => validateItem('metric', raw, 'metrics[0]', { now: NOW })).flatMap((verdict) => ('item' in verdict ? [verdict.item] : []));
      assert.deepEqual(itemsJson('metric', items), items.map((item) => JSON.stringify(item)));
    }),
    { numRuns: 3_000 },
  );
});
