import { attributesOf, stringField, tagValue } from './otlp.values.js';

type Node = Record<string, unknown>;

/**
 * The resource and scope attributes that become tags, and their tag names. Nothing else of a
 * resource or scope becomes a tag: attributes such as `service.instance.id`, `process.pid` or
 * `host.id` change with every process and would multiply the series count on every restart.
 */
export const RESOURCE_TAGS: Readonly<Record<string, string>> = {
  'service.name': 'service',
  'deployment.environment.name': 'env',
  'deployment.environment': 'env',
  'service.namespace': 'namespace',
  'service.version': 'version',
  'host.name': 'host',
};

/** Ingest keeps at most 32 tags per metric; a point's own attributes fill what the resource leaves. */
export const MAX_TAGS = 32;

/** The allow-listed attributes of a resource or scope, as tags (the first spelling of `env` wins). */
export function resourceTags(holder: Node | undefined, what: 'resource' | 'scope', into: Record<string, string> = {}): Record<string, string> {
  if (holder === undefined) return into;
  const attributes = attributesOf(holder, what);
  for (let index = 0; index < attributes.length; index++) {
    const attribute = attributes[index]!;
    const tag = RESOURCE_TAGS[stringField(attribute, 'key')];
    if (tag === undefined || into[tag] !== undefined) continue;
    const value = tagValue(attribute['value']);
    if (value !== undefined && value.length > 0) into[tag] = value;
  }
  return into;
}

/**
 * A data point's tags: the resource's, then the point's own scalar attributes (the dimensions
 * its instrumentation chose) up to MAX_TAGS in all, keys sorted so that one series has one
 * identity whatever order the attributes arrive in. Non-scalar attributes are skipped.
 */
export function pointTags(base: Readonly<Record<string, string>>, point: Node): Record<string, string> {
  // Keys and values are gathered in two scratch arrays kept in key order by insertion (a point has
  // a few tags), then the object is made once, in key order: adding keys one by one to a copy of
  // `base`, then sorting, cost ~15 µs a point (measured on 1000-point exports); arrays and an
  // index sort made anew per point were a third of the intake's garbage a point.
  const keys = SCRATCH_KEYS;
  const values = SCRATCH_VALUES;
  let count = 0;
  try {
    for (const key in base) count = insertSorted(keys, values, count, key, base[key]!);
    const attributes = attributesOf(point, 'data point');
    for (let index = 0; index < attributes.length && count < MAX_TAGS; index++) {
      const attribute = attributes[index]!;
      const key = stringField(attribute, 'key');
      if (key.length === 0 || key === '__proto__' || indexOfKey(keys, count, key) !== -1) continue;
      const value = tagValue(attribute['value']);
      if (value === undefined) continue;
      count = insertSorted(keys, values, count, key, value);
    }
    const tags: Record<string, string> = {};
    for (let index = 0; index < count; index++) tags[keys[index]!] = values[index]!;
    return tags;
  } finally {
    // The scratch arrays hold no point's strings between calls.
    keys.fill(undefined, 0, count);
    values.fill(undefined, 0, count);
  }
}

/** pointTags' scratch arrays (MAX_TAGS long; it is synchronous, so one pair serves every call). */
const SCRATCH_KEYS: Array<string | undefined> = new Array<string | undefined>(MAX_TAGS).fill(undefined);
const SCRATCH_VALUES: Array<string | undefined> = new Array<string | undefined>(MAX_TAGS).fill(undefined);

function indexOfKey(keys: ReadonlyArray<string | undefined>, count: number, key: string): number {
  for (let index = 0; index < count; index++) if (keys[index] === key) return index;
  return -1;
}

/** Inserts `key` (not yet held) and its value into the first `count` entries, kept in key order; the new count. */
function insertSorted(keys: Array<string | undefined>, values: Array<string | undefined>, count: number, key: string, value: string): number {
  let at = count;
  while (at > 0 && keys[at - 1]! > key) {
    keys[at] = keys[at - 1];
    values[at] = values[at - 1];
    at--;
  }
  keys[at] = key;
  values[at] = value;
  return count + 1;
}
