import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import protobuf from 'protobufjs';
import { OTLP_SIGNALS } from './otlp.proto.js';
import { tagValue } from './otlp.values.js';

/** The AnyValue type, reached through an export request so the module's own root is used. */
const ANY_VALUE = OTLP_SIGNALS.metrics.request.lookupType('opentelemetry.proto.common.v1.AnyValue');

describe('OTLP oneofs after the cheaper setter', () => {
  test('the last member on the wire wins, and the earlier one is gone', () => {
    // AnyValue with string_value (field 1) then int_value (field 3) on the wire, and the reverse.
    const stringThenInt = protobuf.Writer.create().uint32((1 << 3) | 2).string('first').uint32((3 << 3) | 0).int64(42).finish();
    const intThenString = protobuf.Writer.create().uint32((3 << 3) | 0).int64(42).uint32((1 << 3) | 2).string('second').finish();

    const lastInt = ANY_VALUE.decode(stringThenInt) as unknown as Record<string, unknown>;
    assert.equal(Object.hasOwn(lastInt, 'stringValue'), false);
    assert.equal(String(lastInt['intValue']), '42');
    assert.equal(lastInt['value'], 'intValue');
    assert.equal(tagValue(lastInt), '42');

    const lastString = ANY_VALUE.decode(intThenString) as unknown as Record<string, unknown>;
    assert.equal(Object.hasOwn(lastString, 'intValue'), false);
    assert.equal(lastString['stringValue'], 'second');
    assert.equal(lastString['value'], 'stringValue');
    assert.equal(tagValue(lastString), 'second');
  });

  test('a message with one member keeps it and names it', () => {
    const only = ANY_VALUE.decode(protobuf.Writer.create().uint32((4 << 3) | 1).double(2.5).finish()) as unknown as Record<string, unknown>;
    assert.deepEqual(Object.keys(only), ['doubleValue']);
    assert.equal(only['value'], 'doubleValue');
    assert.equal(tagValue(only), '2.5');
  });

  test('the setter is the cheaper one: it deletes no member the message does not hold', () => {
    const message = ANY_VALUE.create() as unknown as Record<string, unknown>;
    message['boolValue'] = true;
    const deleted: string[] = [];
    const watched = new Proxy(message, {
      deleteProperty(target, key) {
        deleted.push(String(key));
        return Reflect.deleteProperty(target, key);
      },
    });
    // The oneof's setter, from the prototype, applied to the watched message.
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(message), 'value')!.set!;
    setter.call(watched, 'stringValue');
    assert.deepEqual(deleted, ['boolValue']);
  });
});
