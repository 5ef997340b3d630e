import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TupleMap } from './tuple-map.js';

// Parts drawn from few values, so keys share prefixes and often repeat.
const part = fc.constantFrom('', 'a', 'b', '\u0000', 'a\u0000b', '__proto__', 'constructor');
const key = fc.array(part, { maxLength: 4 });
const operation = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), key }),
);

describe('TupleMap', () => {
  test('behaves as a Map keyed by the whole sequence, over random sets and deletes', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 60 }), fc.array(key, { maxLength: 10 }), (operations, probes) => {
        const map = new TupleMap<number>();
        // The model keys by JSON text, which tells every sequence apart.
        const model = new Map<string, number>();
        for (const step of operations) {
          if (step.op === 'set') {
            map.set(step.key, step.value);
            model.set(JSON.stringify(step.key), step.value);
          } else {
            assert.equal(map.delete(step.key), model.delete(JSON.stringify(step.key)));
          }
          assert.equal(map.size, model.size);
        }
        // Deletes prune what they emptied: no node outlives its last key.
        if (model.size === 0) assert.equal((map as unknown as { root: { children: unknown } }).root.children, undefined);
        for (const probe of [...probes, ...operations.map((step) => step.key)]) assert.equal(map.get(probe), model.get(JSON.stringify(probe)));
      }),
      { numRuns: 500 },
    );
  });

  test('a length reads only that prefix of a reused array', () => {
    const map = new TupleMap<string>();
    const scratch = ['x', 'y', 'stale'];
    map.set(scratch, 'xy', 2);
    assert.equal(map.get(['x', 'y']), 'xy');
    assert.equal(map.get(scratch, 2), 'xy');
    assert.equal(map.get(scratch), undefined);
    assert.equal(map.get(['x']), undefined);
    assert.equal(map.delete(scratch, 2), true);
    assert.equal(map.size, 0);
  });

  test('the empty sequence is a key like any other', () => {
    const map = new TupleMap<number>();
    map.set([], 1);
    map.set([''], 2);
    assert.equal(map.get([]), 1);
    assert.equal(map.get(['']), 2);
    assert.equal(map.delete([]), true);
    assert.equal(map.get(['']), 2);
    assert.equal(map.size, 1);
  });
});
