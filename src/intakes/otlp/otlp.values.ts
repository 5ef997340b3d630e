/**
 * Reading OTLP values the same way from both encodings: a protobufjs message (64-bit integers
 * as `Long`, ids as bytes, absent fields as prototype defaults) and the OTLP/JSON tree (64-bit
 * integers as strings or numbers, ids in hex, enums as integers). A field of the wrong type
 * throws `OtlpShapeError`, answered 400; nothing here trusts the body's shape.
 */
export class OtlpShapeError extends Error {}

/**
 * An export past one of OTLP_VALUE_LIMITS: no sender configured within the OpenTelemetry SDKs'
 * defaults writes one, so the whole export is refused with 400 (a google.rpc.Status naming the
 * limit), never a part of it kept. Not an OtlpShapeError: the per-record catches let it through.
 */
export class OtlpLimitError extends Error {}

/**
 * Bounds on what one export may hold, each enforced on every holder it names; past one the
 * export answers 400 (OtlpLimitError). The body limit (VIGIL_MAX_BODY_BYTES) bounds the rest.
 */
export const OTLP_VALUE_LIMITS = {
  /**
   * Nesting of an AnyValue (arrays and key-value lists), in log bodies and attributes; the same
   * depth as ingest allows in free-form attributes (LIMITS.objectDepth).
   */
  anyValueDepth: 8,
  /**
   * Attributes of one resource, scope, data point, span or log record, and entries of one
   * array or key-value list value: the OpenTelemetry SDKs' default attribute count limit
   * (OTEL_ATTRIBUTE_COUNT_LIMIT, 128).
   */
  attributesPerHolder: 128,
  /** Characters of one string AnyValue (a log body, an attribute value): ingest's message length. */
  stringValueLength: 32_768,
  /** Characters of one string value kept in a tag (longer values are cut). */
  tagValueLength: 200,
} as const;

/**
 * The attributes of `holder` (a resource, scope, data point, span or log record, named by `what`
 * in the refusal); throws OtlpLimitError past OTLP_VALUE_LIMITS.attributesPerHolder.
 */
export function attributesOf(holder: Node, what: string): readonly Node[] {
  const attributes = list(holder, 'attributes');
  if (attributes.length > OTLP_VALUE_LIMITS.attributesPerHolder) {
    throw new OtlpLimitError(`a ${what} holds ${attributes.length} attributes; at most ${OTLP_VALUE_LIMITS.attributesPerHolder} are allowed per resource, scope, data point, span or log record`);
  }
  return attributes;
}

type Node = Record<string, unknown>;
interface LongLike {
  low: number;
  high: number;
  toNumber(): number;
  toString(): string;
}

function isLong(value: unknown): value is LongLike {
  return typeof value === 'object' && value !== null && typeof (value as LongLike).low === 'number' && typeof (value as LongLike).high === 'number';
}

/**
 * Whether a field is set. A decoded protobufjs message holds set fields as own properties and
 * defaults on its prototype, which matters for oneofs (AnyValue's, a data point's value).
 */
export function has(node: Node, field: string): boolean {
  return Object.hasOwn(node, field) && node[field] !== undefined && node[field] !== null;
}

export function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** A message field that holds a message: undefined when absent. */
export function child(node: Node, field: string): Node | undefined {
  const value = node[field];
  if (value === undefined || value === null) return undefined;
  if (!isNode(value)) throw new OtlpShapeError(`${field} must be an object`);
  return value;
}

/** A repeated message field: [] when absent. */
export function list(node: Node, field: string): readonly Node[] {
  const value = node[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpShapeError(`${field} must be an array`);
  for (const element of value) if (!isNode(element)) throw new OtlpShapeError(`${field} must hold objects`);
  return value as Node[];
}

export function stringField(node: Node, field: string): string {
  const value = node[field];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new OtlpShapeError(`${field} must be a string`);
  return value;
}

/** An enum or 32-bit integer field (0 when absent). */
export function intField(node: Node, field: string): number {
  const value = node[field];
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new OtlpShapeError(`${field} must be an integer`);
  return value;
}

export function boolField(node: Node, field: string): boolean {
  const value = node[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new OtlpShapeError(`${field} must be a boolean`);
  return value;
}

const DECIMAL_INTEGER = /^-?\d{1,20}$/;

/** A 64-bit integer field as a BigInt (exact: nanosecond times need all 64 bits); 0n when absent. */
export function int64Field(node: Node, field: string): bigint {
  const value = node[field];
  if (value === undefined || value === null) return 0n;
  if (isLong(value)) return (BigInt(value.high) << 32n) | BigInt(value.low >>> 0);
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) return BigInt(value);
  throw new OtlpShapeError(`${field} must be a 64-bit integer`);
}

/** A double field (JSON may also spell it "NaN", "Infinity", "-Infinity"). */
export function doubleField(node: Node, field: string): number {
  const value = node[field];
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  if (value === 'NaN') return Number.NaN;
  if (value === 'Infinity') return Number.POSITIVE_INFINITY;
  if (value === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new OtlpShapeError(`${field} must be a number`);
}

/** Unix nanoseconds → whole epoch milliseconds; undefined for 0 (unset). */
export function nanosToMillis(nanos: bigint): number | undefined {
  return nanos === 0n ? undefined : Number(nanos / 1_000_000n);
}

/** A protobufjs `Long` of whole 32-bit words with the high bit clear: what the double routes below take. */
function isNonNegativeLong(value: unknown): value is LongLike {
  return isLong(value) && value.high >= 0 && Number.isInteger(value.high) && Number.isInteger(value.low);
}

/** High words (2^32 ns, ~4.3 s) at most this far apart: under 2^52 ns (~52 days), exact in a double. */
const MAX_FAST_HIGH_WORD_DIFFERENCE = 2 ** 20 - 1;

/**
 * The nanoseconds from `startField` to `endField` of `node` (negative when the end is earlier), and
 * whether the start is set (not 0): exactly what the BigInts of int64Field give, without them
 * for two protobufjs `Long`s under ~52 days apart (their difference is exact in a
 * double); otherwise through int64Field.
 */
export function nanosBetween(node: Node, startField: string, endField: string): { startSet: boolean; nanos: number } {
  const start = node[startField];
  const end = node[endField];
  if (isNonNegativeLong(start) && isNonNegativeLong(end) && Math.abs(end.high - start.high) <= MAX_FAST_HIGH_WORD_DIFFERENCE) {
    return { startSet: start.high !== 0 || start.low !== 0, nanos: (end.high - start.high) * 4_294_967_296 + ((end.low >>> 0) - (start.low >>> 0)) };
  }
  const startNanos = int64Field(node, startField);
  return { startSet: startNanos !== 0n, nanos: Number(int64Field(node, endField) - startNanos) };
}

/** 2^32 = 4294 × 10^6 + 967296: how a Long's high word splits into milliseconds and a nanosecond remainder. */
const HIGH_WORD_MILLIS = 4294;
const HIGH_WORD_REMAINDER_NANOS = 967_296;

/**
 * A 64-bit nanosecond time field as whole epoch milliseconds, exactly nanosToMillis(int64Field(…))
 * (undefined when absent or 0). A protobufjs `Long` whose high word is below 2^31 (every time
 * before the year 2262) is converted in doubles, exactly: high × 967,296 + low stays below 2^53,
 * and the remainder taken off first makes the division exact. That is what every protobuf data
 * point and span carries; the BigInt route cost four BigInts of garbage a time field (spans
 * have two). Anything else (JSON strings and numbers, the high bit set) takes the BigInt route.
 */
export function millisField(node: Node, field: string): number | undefined {
  const value = node[field];
  if (isNonNegativeLong(value)) {
    const rest = value.high * HIGH_WORD_REMAINDER_NANOS + (value.low >>> 0);
    const remainder = rest % 1_000_000;
    const millis = value.high * HIGH_WORD_MILLIS + (rest - remainder) / 1_000_000;
    return millis === 0 && rest === 0 ? undefined : millis;
  }
  return nanosToMillis(int64Field(node, field));
}

const HEX_ID = /^(?:[0-9a-fA-F]{2})*$/;

/** A trace or span id in lowercase hex; undefined when empty or all zeros (the "invalid" id). */
export function idField(node: Node, field: string): string | undefined {
  if (!has(node, field)) return undefined;
  const value = node[field];
  let hex: string;
  if (value instanceof Uint8Array) hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  else if (typeof value === 'string' && value.length <= 64 && HEX_ID.test(value)) hex = value.toLowerCase();
  else throw new OtlpShapeError(`${field} must be a hex id`);
  return /^0*$/.test(hex) ? undefined : hex;
}

/** An AnyValue as JSON: nested arrays and key-value lists down to OTLP_VALUE_LIMITS.anyValueDepth. */
export function anyValue(value: unknown, depth = 1): unknown {
  if (value === undefined || value === null) return null;
  if (!isNode(value)) throw new OtlpShapeError('an AnyValue must be an object');
  if (depth > OTLP_VALUE_LIMITS.anyValueDepth) throw new OtlpLimitError(`values must not nest deeper than ${OTLP_VALUE_LIMITS.anyValueDepth} levels`);
  if (has(value, 'stringValue')) {
    const text = stringField(value, 'stringValue');
    if (text.length > OTLP_VALUE_LIMITS.stringValueLength) throw new OtlpLimitError(`a string value holds ${text.length} characters; at most ${OTLP_VALUE_LIMITS.stringValueLength} are allowed`);
    return text;
  }
  if (has(value, 'boolValue')) return boolField(value, 'boolValue');
  if (has(value, 'intValue')) {
    const integer = int64Field(value, 'intValue');
    const asNumber = Number(integer);
    return Number.isSafeInteger(asNumber) ? asNumber : integer.toString();
  }
  if (has(value, 'doubleValue')) {
    const double = doubleField(value, 'doubleValue');
    return Number.isFinite(double) ? double : String(double);
  }
  const array = child(value, 'arrayValue');
  if (array !== undefined) return entriesOf(array).map((element) => anyValue(element, depth + 1));
  const kvlist = child(value, 'kvlistValue');
  if (kvlist !== undefined) return attributesObject(entriesOf(kvlist), depth + 1);
  const bytes = has(value, 'bytesValue') ? value['bytesValue'] : undefined;
  if (bytes instanceof Uint8Array) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (typeof bytes === 'string') return bytes;
  return null;
}

/** The entries of an array or key-value list value; throws OtlpLimitError past OTLP_VALUE_LIMITS.attributesPerHolder. */
function entriesOf(holder: Node): readonly Node[] {
  const entries = list(holder, 'values');
  if (entries.length > OTLP_VALUE_LIMITS.attributesPerHolder) {
    throw new OtlpLimitError(`an array or key-value list value holds ${entries.length} entries; at most ${OTLP_VALUE_LIMITS.attributesPerHolder} are allowed`);
  }
  return entries;
}

/** Key-value pairs (already bounded by attributesOf or entriesOf) as a JSON object. */
export function attributesObject(attributes: readonly Node[], depth = 1): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  const count = attributes.length;
  for (let index = 0; index < count; index++) {
    const attribute = attributes[index]!;
    const key = stringField(attribute, 'key');
    if (key === '__proto__') continue;
    object[key] = anyValue(attribute['value'], depth);
  }
  return object;
}

/** A scalar attribute value as a tag value: strings, numbers and booleans; undefined for the rest. */
export function tagValue(value: unknown): string | undefined {
  if (!isNode(value)) return undefined;
  if (has(value, 'stringValue')) return stringField(value, 'stringValue').slice(0, OTLP_VALUE_LIMITS.tagValueLength);
  if (has(value, 'boolValue')) return String(boolField(value, 'boolValue'));
  if (has(value, 'intValue')) {
    // A Long within 32 bits (an HTTP status, a port) is written as its low word, as the BigInt would be.
    const integer = value['intValue'];
    if (isLong(integer) && Number.isInteger(integer.low) && (integer.high === 0 ? integer.low >= 0 : integer.high === -1 && integer.low < 0)) return String(integer.low);
    return int64Field(value, 'intValue').toString();
  }
  if (has(value, 'doubleValue')) return String(doubleField(value, 'doubleValue'));
  return undefined;
}

/** The scalar attribute `key` of a list (already bounded by attributesOf), as a string. */
export function attributeString(attributes: readonly Node[], key: string): string | undefined {
  for (let index = 0; index < attributes.length; index++) {
    const attribute = attributes[index]!;
    if (attribute['key'] === key) return tagValue(attribute['value']);
  }
  return undefined;
}
