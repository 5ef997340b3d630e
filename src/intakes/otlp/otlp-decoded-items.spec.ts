import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { BatchPosition, validateItem } from '../../ingest/ingest.validation.js';
import { decodeMetrics } from './otlp-metrics.decode.js';
import { decodeTraces } from './otlp-traces.decode.js';
import { OTLP_SIGNALS } from './otlp.proto.js';
import { pointTags } from './otlp.tags.js';
import { millisField, nanosBetween, nanosToMillis, tagValue } from './otlp.values.js';

/** protobufjs's own Long class (the `long` package), as decode makes it for fixed64 fields. */
const Long = protobuf.util.Long as unknown as { fromString(text: string, unsigned: boolean): object };
const long = (nanos: bigint) => Long.fromString(nanos.toString(), true);
/** A deterministic generator (xorshift), so a failure names a reproducible value. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

describe('OTLP times without BigInts', () => {
  test('millisField equals the BigInt route on edges and 20,000 random fixed64 times', () => {
    const random = generator(7);
    const edges = [0n, 1n, 999_999n, 1_000_000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 999_999n, 1_796_685_238_306_123_456n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 64n - 1n];
    const randoms = Array.from({ length: 20_000 }, () => (BigInt(Math.floor(random() * 2 ** 32)) << 32n) | BigInt(Math.floor(random() * 2 ** 32)));
    let compared = 0;
    for (const nanos of [...edges, ...randoms]) {
      const node = { timeUnixNano: long(nanos) };
      // The expected value straight from the nanoseconds, not through int64Field (whose high word is signed).
      const signed = nanos >= 2n ** 63n ? nanos - 2n ** 64n : nanos;
      const expected = signed === 0n ? undefined : Number(signed / 1_000_000n);
      assert.equal(millisField(node, 'timeUnixNano'), expected, `nanos ${nanos}`);
      compared++;
    }
    assert.equal(compared, edges.length + 20_000);
    assert.equal(millisField({}, 'timeUnixNano'), undefined);
    // OTLP/JSON spells them as strings: the BigInt route, same answer.
    assert.equal(millisField({ timeUnixNano: '1796685238306123456' }, 'timeUnixNano'), 1_796_685_238_306);
  });

  test('nanosBetween equals the BigInt difference, near and far apart, either order', () => {
    const random = generator(11);
    let compared = 0;
    for (let index = 0; index < 20_000; index++) {
      const start = (BigInt(Math.floor(random() * 2 ** 31)) << 32n) | BigInt(Math.floor(random() * 2 ** 32));
      const span = BigInt(Math.floor((random() - 0.3) * 2 ** (index % 60)));
      const end = start + span;
      if (end < 0n) continue;
      const node = { startTimeUnixNano: long(start), endTimeUnixNano: long(end) };
      // As int64Field reads a Long (its high word signed), computed here from the nanoseconds.
      const signed = (nanos: bigint) => (nanos >= 2n ** 63n ? nanos - 2n ** 64n : nanos);
      const expected = { startSet: start !== 0n, nanos: Number(signed(end) - signed(start)) };
      assert.deepEqual(nanosBetween(node, 'startTimeUnixNano', 'endTimeUnixNano'), expected, `start ${start} end ${end}`);
      compared++;
    }
    assert.ok(compared > 19_000);
    assert.deepEqual(nanosBetween({ endTimeUnixNano: long(5n) }, 'startTimeUnixNano', 'endTimeUnixNano'), { startSet: false, nanos: 5 });
    assert.equal(nanosToMillis(0n), undefined);
  });
});

describe('OTLP tags and items', () => {
  test('tagValue of 64-bit integers equals the BigInt route, 32-bit ones included, signed and unsigned', () => {
    const random = generator(13);
    const SignedLong = protobuf.util.Long as unknown as { fromString(text: string, unsigned: boolean): object };
    const values = [0n, 1n, 200n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, -1n, -200n, -(2n ** 31n), -(2n ** 31n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (let index = 0; index < 5_000; index++) values.push(BigInt(Math.floor((random() - 0.5) * 2 ** (1 + (index % 63)))));
    for (const integer of values) {
      const attribute = { intValue: SignedLong.fromString(integer.toString(), false) };
      assert.equal(tagValue(attribute), integer.toString(), `value ${integer}`);
    }
    assert.equal(values.length, 5_013);
  });

  test('pointTags: the resource tags and the point attributes in key order, duplicates and non-scalars left out, the cap kept', () => {
    const attribute = (key: string, value: Record<string, unknown>) => ({ key, value });
    const point = {
      attributes: [
        attribute('zone', { stringValue: 'b' }),
        attribute('host', { stringValue: 'h1' }),
        attribute('service', { stringValue: 'not the resource one' }),
        attribute('list', { arrayValue: { values: [] } }),
        attribute('code', { intValue: long(200n) }),
        attribute('', { stringValue: 'no key' }),
      ],
    };
    const tags = pointTags({ service: 'api', env: 'prod' }, point);
    assert.deepEqual(Object.entries(tags), [['code', '200'], ['env', 'prod'], ['host', 'h1'], ['service', 'api'], ['zone', 'b']]);
    const many = { attributes: Array.from({ length: 40 }, (_, index) => attribute(`k${String(39 - index).padStart(2, '0')}`, { stringValue: String(index) })) };
    const capped = pointTags({ service: 'api' }, many);
    // The resource's one tag, then the first 31 attributes as sent (k39 … k09), in key order.
    const kept = Array.from({ length: 31 }, (_, index) => `k${String(39 - index).padStart(2, '0')}`).sort();
    assert.deepEqual(Object.keys(capped), [...kept, 'service']);
    assert.equal(capped['k39'], '0');
    // One call leaves nothing behind for the next.
    assert.deepEqual(pointTags({}, { attributes: [] }), {});
  });

  test('decoded metric and span items are already in stored form: ingest keeps them as they are', () => {
    const nanos = (ms: number) => long(BigInt(ms) * 1_000_000n + 123_456n);
    const now = Date.now();
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] };
    const dataPoints = Array.from({ length: 50 }, (_, index) => ({ timeUnixNano: nanos(now), asDouble: index, attributes: [{ key: 'host', value: { stringValue: `h${index % 5}` } }] }));
    const metricsType = OTLP_SIGNALS.metrics.request;
    const metrics = metricsType.decode(metricsType.encode(metricsType.fromObject({ resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints } }] }] }] })).finish());
    const metricItems = decodeMetrics(metrics as unknown as Record<string, unknown>).items;
    const bounds = { now: now + 1000 };
    const keptAsIs = (kind: 'metric' | 'request', items: ReadonlyArray<Record<string, unknown>>) =>
      items.filter((item) => {
        const verdict = validateItem(kind, item, new BatchPosition('items'), bounds, true);
        return 'item' in verdict && verdict.item === item;
      }).length;
    assert.equal(metricItems.length, 50);
    assert.equal(keptAsIs('metric', metricItems), 50);
    assert.deepEqual(metricItems[7], { name: 'm', value: 7, type: 'gauge', timestamp: now, tags: { host: 'h2', service: 'api' } });

    const spans = Array.from({ length: 20 }, (_, index) => ({
      traceId: Buffer.alloc(16, index + 1),
      spanId: Buffer.alloc(8, index + 1),
      name: 'GET /users',
      kind: 2,
      startTimeUnixNano: nanos(now - 10 - index),
      endTimeUnixNano: nanos(now),
      attributes: [{ key: 'http.route', value: { stringValue: '/users' } }, { key: 'http.response.status_code', value: { intValue: 200 } }],
    }));
    const tracesType = OTLP_SIGNALS.traces.request;
    const traces = tracesType.decode(tracesType.encode(tracesType.fromObject({ resourceSpans: [{ resource, scopeSpans: [{ spans }] }] })).finish());
    const requestItems = decodeTraces(traces as unknown as Record<string, unknown>).items;
    assert.equal(requestItems.length, 20);
    assert.equal(keptAsIs('request', requestItems), 20);
    assert.deepEqual(requestItems[3], { service: 'api', durationMs: 13, success: true, timestamp: now, operation: '/users', statusCode: 200 });
  });
});
