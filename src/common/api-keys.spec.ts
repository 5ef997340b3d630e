import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiKeyRing, presentedKey } from './api-keys.js';

describe('ApiKeyRing', () => {
  const ring = new ApiKeyRing({ ingest: ['ing'], read: ['rd', 'both'], admin: ['adm'] });

  test('scopes per key; admin implies read and ingest', () => {
    assert.deepEqual([...ring.resolve('ing')!.scopes], ['ingest']);
    assert.deepEqual([...ring.resolve('rd')!.scopes], ['read']);
    assert.deepEqual([...ring.resolve('adm')!.scopes].sort(), ['admin', 'ingest', 'read']);
    assert.equal(ring.resolve('nope'), null);
    assert.equal(ring.resolve(''), null);
    assert.equal(ring.resolve('ing '), null);
  });

  test('a key in two lists gets both scopes; ids never contain the key', () => {
    const shared = new ApiKeyRing({ ingest: ['k'], read: ['k'], admin: [] });
    assert.deepEqual([...shared.resolve('k')!.scopes].sort(), ['ingest', 'read']);
    assert.ok(!ring.resolve('adm')!.id.includes('adm'));
  });

  test('resolveOn answers as resolve for every sequence of keys on a connection', () => {
    const connection = {};
    const other = {};
    // Prefixes, extensions, the empty key and repeats: a cached answer must never outlive a change of key.
    const sequence = ['ing', 'ing', 'in', 'ing2', '', 'adm', 'ing', 'nope', 'nope', 'rd', 'adm'];
    for (const presented of sequence) {
      assert.deepEqual(ring.resolveOn(connection, presented), ring.resolve(presented), presented);
      assert.deepEqual(ring.resolveOn(other, 'rd'), ring.resolve('rd'));
      assert.deepEqual(ring.resolveOn(undefined, presented), ring.resolve(presented));
    }
  });

  test('reads Bearer and X-API-Key headers', () => {
    assert.equal(presentedKey({ authorization: 'Bearer abc' }), 'abc');
    assert.equal(presentedKey({ authorization: 'bearer  abc ' }), 'abc');
    assert.equal(presentedKey({ 'x-api-key': 'xyz' }), 'xyz');
    assert.equal(presentedKey({ authorization: 'Basic abc' }), null);
    assert.equal(presentedKey({}), null);
  });
});
