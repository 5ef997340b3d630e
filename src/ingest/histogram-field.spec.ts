import assert from 'node:assert/strict';
import { test } from 'node:test';
import { itemJson } from './item-json.js';
import { validateItem } from './ingest.validation.js';

const now = Date.UTC(2026, 0, 1);
const histogram = { count: 6, sum: 21.5, bounds: [1, 5], counts: [1, 3, 2] };
const metric = (fields: Record<string, unknown>) => validateItem('metric', { name: 'queue.wait', value: 21.5, type: 'histogram', timestamp: now, ...fields }, 'metrics[0]', { now });

test('a histogram metric is stored with its count, sum, bounds, counts, min and max, in that order, and written as JSON.stringify writes it', () => {
  const verdict = metric({ histogram: { max: 9, extra: 'dropped', min: 0.5, ...histogram } });
  assert.ok('item' in verdict);
  assert.deepEqual(Object.keys(verdict.item.histogram!), ['count', 'sum', 'bounds', 'counts', 'min', 'max']);
  assert.equal(itemJson('metric', verdict.item), JSON.stringify(verdict.item));
});

test('histogram refusals name the field', () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{}, 'metrics[0].histogram is required when type is histogram, and only then'],
    [{ type: 'gauge', histogram }, 'metrics[0].histogram is required when type is histogram, and only then'],
    [{ histogram: { ...histogram, bounds: [5, 1] } }, 'metrics[0].histogram.bounds must be ascending'],
    [{ histogram: { ...histogram, counts: [1, 5] } }, 'metrics[0].histogram.counts must have one more entry than bounds'],
    [{ histogram: { ...histogram, counts: [1, 3, 3] } }, 'metrics[0].histogram.count must be the sum of counts'],
    [{ histogram: { ...histogram, counts: [1.5, 2.5, 2] } }, 'metrics[0].histogram.counts must be non-negative integers'],
    [{ histogram: { ...histogram, sum: Number.NaN } }, 'metrics[0].histogram.sum must be a finite number'],
    [{ histogram: { ...histogram, bounds: Array.from({ length: 401 }, (_, index) => index), counts: new Array(402).fill(0), count: 0 } }, 'metrics[0].histogram.bounds must be an array of at most 400 finite numbers'],
    [{ histogram: 'many' }, 'metrics[0].histogram must be an object'],
  ];
  for (const [fields, message] of cases) assert.deepEqual(metric(fields), { error: message }, message);
});
