import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BatchPosition, validateItem, type TimeBounds } from './ingest.validation.js';

const now = Date.now();
const bounds = { now };

describe('checker messages and normalisation', () => {
  test('messages name the field path', () => {
    assert.deepEqual(validateItem('metric', { name: 'a', value: Infinity }, 'metrics[3]', bounds), { error: 'metrics[3].value must be a finite number' });
    assert.deepEqual(validateItem('analytics', { userId: 'u', type: 'page_view' }, 'events[0]', bounds), {
      error: 'events[0].page is required when type is page_view',
    });
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, timestamp: now + 11 * 60_000 }, 'metrics[0]', bounds), {
      error: 'metrics[0].timestamp must not be more than 10 minutes in the future',
    });
  });

  test('one BatchPosition names each item of a batch by its own index', () => {
    const position = new BatchPosition('metrics');
    const batch: unknown[] = [{ name: 'a', value: 1 }, 7, { name: 'a', value: 1, timestamp: 'soon' }, { name: 'a', value: 1, tags: { host: 5 } }];
    const messages = batch.map((raw, index) => {
      position.index = index;
      const verdict = validateItem('metric', raw, position, bounds);
      return 'error' in verdict ? verdict.error : 'valid';
    });
    assert.deepEqual(messages, [
      'valid',
      'metrics[1] must be an object',
      'metrics[2].timestamp must be epoch milliseconds (a number) or an ISO 8601 date-time string (a real calendar date and time, e.g. 2026-01-31T12:00:00Z)',
      'metrics[3].tags.host must be a string',
    ]);
  });

  test('defaults, ISO timestamps and success derivation', () => {
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, extra: 'dropped' }, 'm', bounds), {
      item: { name: 'a', value: 1, type: 'gauge', timestamp: now, tags: {} },
    });
    const iso = validateItem('event', { title: 't', timestamp: '2025-03-04T05:06:07.089Z' }, 'e', bounds);
    assert.deepEqual(iso, { item: { title: 't', text: '', alertType: 'info', tags: {}, timestamp: Date.UTC(2025, 2, 4, 5, 6, 7, 89) } });
    const request = (raw: Record<string, unknown>) => (validateItem('request', { service: 's', durationMs: 1, ...raw }, 'r', bounds) as { item: { success: boolean } }).item.success;
    assert.equal(request({ statusCode: 500, success: true }), false);
    assert.equal(request({ statusCode: 404, success: false }), true);
    assert.equal(request({ success: false }), false);
    assert.equal(request({}), true);
  });

  test('__proto__ and constructor keys stay plain data', () => {
    const raw = JSON.parse('{"name":"a","value":1,"tags":{"__proto__":"x","constructor":"y"}}') as Record<string, unknown>;
    const verdict = validateItem('metric', raw, 'm', bounds) as { item: { tags: Record<string, string> } };
    assert.equal(Object.getPrototypeOf(verdict.item.tags), Object.prototype);
    assert.equal(verdict.item.tags['constructor'], 'y');
    assert.equal(Object.getOwnPropertyDescriptor(verdict.item.tags, '__proto__')?.value, 'x');
    assert.equal(JSON.stringify(verdict.item.tags), '{"__proto__":"x","constructor":"y"}');
    assert.equal(({} as Record<string, unknown>)['x'], undefined);
  });
});

describe('timestamps', () => {
  test('a zone-less ISO date-time is UTC; offsets are honoured; dates are midnight UTC', () => {
    const at = (timestamp: string) => (validateItem('metric', { name: 'a', value: 1, timestamp }, 'm', bounds) as { item: { timestamp: number } }).item.timestamp;
    assert.equal(at('2025-03-04T05:06:07'), Date.UTC(2025, 2, 4, 5, 6, 7));
    assert.equal(at('2025-03-04T05:06:07+02:00'), Date.UTC(2025, 2, 4, 3, 6, 7));
    assert.equal(at('2025-03-04'), Date.UTC(2025, 2, 4));
    assert.deepEqual(validateItem('metric', { name: 'a', value: 1, timestamp: '2025-13-45' }, 'm', bounds), {
      error: 'm.timestamp must be epoch milliseconds (a number) or an ISO 8601 date-time string (a real calendar date and time, e.g. 2026-01-31T12:00:00Z)',
    });
  });

  const problem = (timestamp: unknown, timeBounds: TimeBounds = bounds) => {
    const verdict = validateItem('request', { service: 's', durationMs: 1, timestamp }, 'r', timeBounds);
    return 'error' in verdict ? verdict.error : verdict.item.timestamp;
  };

  test('dates that are not on the calendar or the clock are refused, not rolled over', () => {
    for (const text of ['2026-02-30T00:00:00Z', '2026-02-29', '2026-04-31', '2026-00-10', '2026-01-01T24:00:00Z', '2026-01-01T10:60Z', '2026-06-30T23:59:60Z']) {
      assert.match(String(problem(text)), /^r\.timestamp must be epoch milliseconds \(a number\) or an ISO 8601 date-time string/, text);
    }
    assert.equal(problem('2024-02-29'), Date.UTC(2024, 1, 29));
    assert.equal(problem('2025-12-31T23:59:59.999Z'), Date.UTC(2025, 11, 31, 23, 59, 59, 999));
  });

  test('epoch seconds, tiny numbers and micro/nanoseconds are named as unit mistakes', () => {
    const seconds = Math.floor(now / 1000);
    assert.equal(problem(seconds), 'r.timestamp looks like epoch seconds: must be epoch milliseconds (a number) or an ISO 8601 date-time string (multiply by 1000)');
    assert.equal(problem(seconds + 0.5), problem(seconds));
    for (const tiny of [0, 1, 1.5, 946_684_799, -5]) {
      assert.equal(problem(tiny), 'r.timestamp must be epoch milliseconds on or after 2000-01-01 (946684800000)', String(tiny));
    }
    assert.equal(problem(now * 1000), 'r.timestamp looks like epoch microseconds or nanoseconds: must be epoch milliseconds (a number) or an ISO 8601 date-time string');
    assert.equal(problem('1999-12-31T23:59:59Z'), 'r.timestamp must be on or after 2000-01-01');
    assert.equal(problem(946_684_800_000), 946_684_800_000);
  });

  test('a kind with an oldest kept time refuses older items and names why', () => {
    const oldest = { epochMs: now - 1000, reason: 'the analytics retention (VIGIL_ANALYTICS_RETENTION_DAYS = 1)' };
    assert.equal(problem(now - 1001, { now, oldest }), 'r.timestamp is older than the analytics retention (VIGIL_ANALYTICS_RETENTION_DAYS = 1); such an item would be deleted at once');
    assert.equal(problem(now - 1000, { now, oldest }), now - 1000);
  });
});

describe('strings that become keys, ids or report text', () => {
  const verdictOf = (raw: Record<string, unknown>) => {
    const verdict = validateItem('analytics', { userId: 'u', type: 'click', ...raw }, 'a', bounds);
    return 'error' in verdict ? verdict.error : verdict.item;
  };

  test('lone surrogates and control characters are refused, naming the field', () => {
    assert.equal(verdictOf({ userId: '\ud800' }), 'a.userId must be well-formed Unicode (no lone UTF-16 surrogates)');
    assert.equal(verdictOf({ userId: 'x\udfffy' }), 'a.userId must be well-formed Unicode (no lone UTF-16 surrogates)');
    for (const text of ['\u001b[2J', 'a\r\nb', 'nul\u0000', 'del\u007f', 'c1\u009b']) {
      assert.equal(verdictOf({ sessionId: text }), 'a.sessionId must not contain control characters (U+0000-U+001F, U+007F-U+009F)', JSON.stringify(text));
    }
    const tagVerdict = validateItem('metric', { name: 'm', value: 1, tags: { host: 'a\u001bb' } }, 'm', bounds);
    assert.deepEqual(tagVerdict, { error: 'm.tags.host must not contain control characters (U+0000-U+001F, U+007F-U+009F)' });
    const keyVerdict = validateItem('metric', { name: 'm', value: 1, tags: { 'h\ud800': 'x' } }, 'm', bounds);
    assert.deepEqual(keyVerdict, { error: 'm.tags keys must be well-formed Unicode (no lone UTF-16 surrogates)' });
  });

  test('pairs of surrogates (emoji) and non-Latin scripts are kept; free text keeps line breaks and mends lone surrogates', () => {
    assert.equal((verdictOf({ userId: 'user-\ud83d\ude00-名前' }) as { userId: string }).userId, 'user-\ud83d\ude00-名前');
    const log = validateItem('log', { message: 'line 1\nline 2\tcut \ud83d' }, 'l', bounds) as { item: { message: string } };
    assert.equal(log.item.message, 'line 1\nline 2\tcut \ufffd');
  });

  test('durations and metric values have bounds', () => {
    const duration = (durationMs: number) => {
      const verdict = validateItem('request', { service: 's', durationMs }, 'r', bounds);
      return 'error' in verdict ? verdict.error : 'valid';
    };
    assert.equal(duration(86_400_000), 'valid');
    assert.equal(duration(86_400_000.5), 'r.durationMs must be at most 86400000');
    assert.equal(duration(1e308), 'r.durationMs must be at most 86400000');
    const value = (number: number) => {
      const verdict = validateItem('metric', { name: 'm', value: number }, 'm', bounds);
      return 'error' in verdict ? verdict.error : 'valid';
    };
    assert.equal(value(-1e18), 'valid');
    assert.equal(value(1e19), 'm.value must be at most 1000000000000000000');
    assert.equal(value(-1e19), 'm.value must be at least -1000000000000000000');
  });
});
