import { parseIsoInstant } from '../common/iso-time.js';
import { keyStringProblem } from '../common/key-string.js';
import { LIMITS, type Tags } from '../ingest-log/ingest-log.items.js';
import type { BooleanField, EnumField, FieldSpec, HistogramData, IntegerField, NumberField, PatternField, StringField } from '../ingest-log/item-schema.js';

/**
 * The rule of each type of field (src/ingest-log/item-schema.ts), as ingest.validation.ts calls
 * them from the validator it compiles per kind: `(value, path, field, spec, bounds)` → the
 * stored value, or an ItemError naming the field (`metrics[3].value must be a finite number`).
 * A message is written only when a field fails.
 */

/**
 * The time an item's timestamp is judged against: receipt time (the default, and the
 * future bound) and the oldest time kept for its kind (a store that deletes by the item's
 * own time would otherwise accept it and delete it at its next pass), with the reason.
 */
export interface TimeBounds {
  now: number;
  oldest?: { epochMs: number; reason: string };
}

export class ItemError extends Error {}

/**
 * Where an item sits in its batch (`metrics[3]`), written out only when a message needs it:
 * writing the text for every item of a 1000-item batch, and `metrics[3].timestamp` after it,
 * cost allocations per item that only a failing item uses. One instance serves a whole batch
 * (move `index` along); a message is written before validateItem returns.
 */
export class BatchPosition {
  index = 0;
  constructor(private readonly field: string) {}
  toString(): string {
    return `${this.field}[${this.index}]`;
  }
}

/** How messages name an item: a fixed text, or its position in a batch. */
export type ItemPath = string | BatchPosition;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(path: string, problem: string): never {
  throw new ItemError(`${path} ${problem}`);
}

/** Throws the ItemError of `problem` in `field` of the item at `path`. */
export function failField(path: ItemPath, field: string, problem: string): never {
  throw new ItemError(`${path}.${field} ${problem}`);
}

/**
 * Epoch milliseconds or ISO 8601 (strict: no 30 February), from 2000-01-01 to 10 minutes
 * ahead of `bounds.now`, and not older than `bounds.oldest`; defaults to now.
 */
export function parseTimestamp(value: unknown, path: string, bounds: TimeBounds): number {
  const epochMs = timestampOrProblem(value, bounds);
  if (typeof epochMs === 'string') fail(path, epochMs);
  return epochMs;
}

const EXPECTED_TIMESTAMP = 'must be epoch milliseconds (a number) or an ISO 8601 date-time string';
/** 2000-01-01 in epoch seconds: a number from here up to 10x less than the earliest milliseconds reads as seconds. */
const EARLIEST_IN_SECONDS = LIMITS.earliestTimestampMs / 1000;
/** Epoch milliseconds of the year 5138: a number beyond it reads as micro- or nanoseconds. */
const LATEST_PLAUSIBLE_MS = 1e14;

/** The timestamp in epoch milliseconds, or what is wrong with it. */
function timestampOrProblem(value: unknown, { now, oldest }: TimeBounds): number | string {
  if (value === undefined || value === null) return now;
  let epochMs: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return EXPECTED_TIMESTAMP;
    if (value < LIMITS.earliestTimestampMs) {
      return value >= EARLIEST_IN_SECONDS && value < LIMITS.earliestTimestampMs / 10
        ? `looks like epoch seconds: ${EXPECTED_TIMESTAMP} (multiply by 1000)`
        : `must be epoch milliseconds on or after 2000-01-01 (${LIMITS.earliestTimestampMs})`;
    }
    if (value > LATEST_PLAUSIBLE_MS) return `looks like epoch microseconds or nanoseconds: ${EXPECTED_TIMESTAMP}`;
    epochMs = Math.floor(value);
  } else if (typeof value === 'string') {
    const parsed = parseIsoInstant(value);
    if (parsed === null) return `${EXPECTED_TIMESTAMP} (a real calendar date and time, e.g. 2026-01-31T12:00:00Z)`;
    if (parsed < LIMITS.earliestTimestampMs) return 'must be on or after 2000-01-01';
    epochMs = parsed;
  } else {
    return EXPECTED_TIMESTAMP;
  }
  if (epochMs > now + LIMITS.futureToleranceMs) return 'must not be more than 10 minutes in the future';
  if (oldest !== undefined && epochMs < oldest.epochMs) return `is older than ${oldest.reason}; such an item would be deleted at once`;
  return epochMs;
}

/**
 * Tags: an object of at most LIMITS.maxTags string values under key-like names. Stored as a copy
 * holding the own keys only; with `inPlace` (ingest.validation.ts's in-place validator), the same
 * checks and no copy: `value` itself when it is a plain object (Object.prototype), which the copy
 * would equal key for key.
 */
function tagsRule(value: unknown, path: ItemPath, field: string, _spec?: FieldSpec, _bounds?: TimeBounds, inPlace = false): Tags | undefined {
  // Absent tags are stored as {}: never the value itself, in place or not.
  if (value === undefined || value === null) return {};
  const tags: Tags = inPlace ? (value as Tags) : {};
  if (!isPlainObject(value)) fail(`${path}.${field}`, 'must be an object of string values');
  if (inPlace && Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  let count = 0;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    if (++count > LIMITS.maxTags) fail(`${path}.${field}`, `must have at most ${LIMITS.maxTags} keys`);
    if (key.length === 0 || key.length > LIMITS.tagKeyLength) fail(`${path}.${field}`, `keys must be 1-${LIMITS.tagKeyLength} characters`);
    const keyProblem = keyStringProblem(key);
    if (keyProblem !== null) fail(`${path}.${field}`, `keys ${keyProblem}`);
    const tag = value[key];
    if (typeof tag !== 'string') fail(`${path}.${field}.${key}`, 'must be a string');
    if (tag.length > LIMITS.tagValueLength) fail(`${path}.${field}.${key}`, `must be at most ${LIMITS.tagValueLength} characters`);
    const tagProblem = keyStringProblem(tag);
    if (tagProblem !== null) fail(`${path}.${field}.${key}`, tagProblem);
    // Assigning __proto__ would set the prototype: that one key is defined as a
    // plain property. Every other key is assigned, which keeps tags objects of the
    // same keys on one hidden class: defining every key made validating, serialising
    // and keying a metric about 25 % slower (measured on 1000-point batches).
    if (inPlace) continue;
    if (key === '__proto__') Object.defineProperty(tags, key, { value: tag, enumerable: true, writable: true, configurable: true });
    else tags[key] = tag;
  }
  return tags;
}

/** A free-form JSON object, nesting at most LIMITS.objectDepth deep (checked without recursion). */
function objectRule(value: unknown, path: ItemPath, field: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) fail(`${path}.${field}`, 'must be an object');
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > LIMITS.objectDepth) fail(`${path}.${field}`, `must not nest deeper than ${LIMITS.objectDepth} levels`);
    for (const child of Object.values(node)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return value;
}

/**
 * A string field. A required one answers anything but a string (absence included) with
 * `must be a string`. Free text (stored only inside the item's JSON, where a NUL is escaped)
 * keeps its line breaks and tabs, and a lone surrogate becomes U+FFFD, as a UTF-8 decoder
 * would make it, rather than refusing a log line cut in the middle of a character. Every
 * other string may become a column or a key (user, service, page, tag), and Postgres text
 * cannot hold a NUL: one such value would fail the whole group commit, or a consumer on
 * every retry; so keyStringProblem refuses it.
 */
function stringRule(value: unknown, path: ItemPath, field: string, spec: StringField): string | undefined {
  if ((value === undefined || value === null) && spec.required !== true) return spec.default;
  if (typeof value !== 'string') failField(path, field, 'must be a string');
  if (value.length < (spec.min ?? 1)) failField(path, field, 'must not be empty');
  if (value.length > spec.max) failField(path, field, `must be at most ${spec.max} characters`);
  if (spec.text === 'free') return value.isWellFormed() ? value : value.toWellFormed();
  const problem = keyStringProblem(value);
  if (problem !== null) failField(path, field, problem);
  return value;
}

function patternRule(value: unknown, path: ItemPath, field: string, spec: PatternField): string {
  if (typeof value !== 'string') failField(path, field, 'must be a string');
  if (!spec.regex.test(value)) failField(path, field, spec.problem);
  return value;
}

function numberRule(value: unknown, path: ItemPath, field: string, spec: NumberField): number | undefined {
  if (value === undefined || value === null) {
    if (spec.required === true) failField(path, field, 'is required');
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) failField(path, field, 'must be a finite number');
  if (value < spec.min) failField(path, field, `must be at least ${spec.min}`);
  if (value > spec.max) failField(path, field, `must be at most ${spec.max}`);
  return value;
}

function integerRule(value: unknown, path: ItemPath, field: string, spec: IntegerField): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Number.isInteger(value) || (value as number) < spec.min || (value as number) > spec.max) {
    failField(path, field, `must be an integer from ${spec.min} to ${spec.max}`);
  }
  return value as number;
}

function booleanRule(value: unknown, path: ItemPath, field: string, spec: BooleanField): boolean {
  if (value === undefined || value === null) return spec.default;
  if (typeof value !== 'boolean') failField(path, field, 'must be a boolean');
  return value;
}

function enumRule(value: unknown, path: ItemPath, field: string, spec: EnumField): string {
  if (value === undefined || value === null) return spec.default;
  if (typeof value !== 'string' || !spec.values.includes(value)) failField(path, field, `must be one of ${spec.values.join(', ')}`);
  return value;
}

function timestampRule(value: unknown, path: ItemPath, field: string, _spec: FieldSpec, bounds: TimeBounds): number {
  const epochMs = timestampOrProblem(value, bounds);
  if (typeof epochMs === 'string') failField(path, field, epochMs);
  return epochMs;
}

function finiteList(value: unknown, path: ItemPath, field: string, max: number): number[] {
  if (!Array.isArray(value) || value.length > max || !value.every((element) => typeof element === 'number' && Number.isFinite(element))) {
    failField(path, field, `must be an array of at most ${max} finite numbers`);
  }
  return value as number[];
}

/**
 * A histogram: bounds finite and ascending (at most LIMITS.histogramBounds), one more bucket
 * count than bounds, counts non-negative integers adding up to `count`, a finite `sum`, `min` and
 * `max` finite when given. The stored object holds these fields only, in this order.
 */
function histogramRule(value: unknown, path: ItemPath, field: string): HistogramData | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isPlainObject(value)) failField(path, field, 'must be an object');
  const bounds = finiteList(value['bounds'], path, `${field}.bounds`, LIMITS.histogramBounds);
  for (let index = 1; index < bounds.length; index++) if (!(bounds[index]! > bounds[index - 1]!)) failField(path, `${field}.bounds`, 'must be ascending');
  const counts = finiteList(value['counts'], path, `${field}.counts`, LIMITS.histogramBounds + 1);
  if (counts.length !== bounds.length + 1) failField(path, `${field}.counts`, 'must have one more entry than bounds');
  if (!counts.every((count) => Number.isSafeInteger(count) && count >= 0)) failField(path, `${field}.counts`, 'must be non-negative integers');
  const count = value['count'];
  if (!Number.isSafeInteger(count) || (count as number) < 0) failField(path, `${field}.count`, 'must be a non-negative integer');
  if (counts.reduce((total, bucket) => total + bucket, 0) !== count) failField(path, `${field}.count`, 'must be the sum of counts');
  const sum = value['sum'];
  if (typeof sum !== 'number' || !Number.isFinite(sum) || Math.abs(sum) > LIMITS.maxMetricMagnitude) failField(path, `${field}.sum`, 'must be a finite number');
  const histogram: HistogramData = { count: count as number, sum, bounds: [...bounds], counts: [...counts] };
  for (const extreme of ['min', 'max'] as const) {
    const given = value[extreme];
    if (given === undefined || given === null) continue;
    if (typeof given !== 'number' || !Number.isFinite(given)) failField(path, `${field}.${extreme}`, 'must be a finite number');
    histogram[extreme] = given;
  }
  return histogram;
}

/**
 * A field's rule: its checked and normalised value (undefined for an absent optional field).
 * `inPlace` asks for the value itself when it is already what would be stored (only tags copy
 * a valid value; every other rule returns it as it is or normalises it).
 */
export type FieldRule = (value: unknown, path: ItemPath, field: string, spec: never, bounds: TimeBounds, inPlace?: boolean) => unknown;

/** The rule of each type of field. */
export const FIELD_RULES: { [Type in FieldSpec['type']]: FieldRule } = {
  string: stringRule,
  pattern: patternRule,
  number: numberRule,
  integer: integerRule,
  boolean: booleanRule,
  enum: enumRule,
  timestamp: timestampRule,
  tags: tagsRule,
  object: objectRule,
  histogram: histogramRule,
};
