import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import { decodeJsonBatch, jsonAnswer } from './json.decode.js';

describe('the JSON intake decode step', () => {
  test('{field: [...]} gives the raw items; analytics reads its batch from `events`', () => {
    const items = [{ name: 'a' }, 'not an object'];
    assert.equal(decodeJsonBatch('metrics', { metrics: items }, 10), items);
    assert.deepEqual(decodeJsonBatch('analytics', { events: [1] }, 10), [1]);
  });

  test('a body of another shape or an empty batch is a 400 naming the field', () => {
    for (const body of [null, [], 'x', { logs: {} }, { metrics: [] }]) {
      assert.throws(() => decodeJsonBatch('logs', body, 10), (error: unknown) => error instanceof BadRequestException && /^logs must (be an array|not be empty)$/.test(error.message));
    }
  });

  test('more items than the limit is a 413', () => {
    assert.throws(() => decodeJsonBatch('requests', { requests: [1, 2, 3] }, 2), (error: unknown) =>
      error instanceof PayloadTooLargeException && error.message === 'requests has 3 items; at most 2 are allowed');
  });
});

describe('the JSON intake answer', () => {
  test('some accepted: the outcome is the 202 body', () => {
    const outcome = { accepted: 1, rejected: 1, errors: [{ index: 1, message: 'metrics[1].value must be a finite number' }] };
    assert.equal(jsonAnswer(outcome), outcome);
  });

  test('none accepted: a 400 listing the first ten messages and how many more', () => {
    const errors = Array.from({ length: 12 }, (_, index) => ({ index, message: `m${index}` }));
    assert.throws(() => jsonAnswer({ accepted: 0, rejected: 150, errors }), (error: unknown) => {
      assert.ok(error instanceof BadRequestException);
      const body = error.getResponse() as { message: string; errors: unknown };
      assert.equal(body.message, `every item was invalid: ${errors.slice(0, 10).map((e) => e.message).join('; ')} (and 138 more)`);
      assert.equal(body.errors, errors);
      return true;
    });
  });
});
