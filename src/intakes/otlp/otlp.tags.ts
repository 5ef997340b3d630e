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
  // Keys and values are gathered in arrays and the object is made once, in key order: adding
  // keys one by one to a copy of `base`, then sorting, cost ~15 µs a point (measured on
  // 1000-point exports; this way, under 1 µs).
  const keys: string[] = [];
  const values: string[] = [];
  for (const key in base) {
    keys.push(key);
    values.push(base[key]!);
  }
  const attributes = attributesOf(point, 'data point');
  for (let index = 0; index < attributes.length && keys.length < MAX_TAGS; index++) {
    const attribute = attributes[index]!;
    const key = stringField(attribute, 'key');
    if (key.length === 0 || key === '__proto__' || keys.includes(key)) continue;
    const value = tagValue(attribute['value']);
    if (value === undefined) continue;
    keys.push(key);
    values.push(value);
  }
  const order = keys.map((_, index) => index).sort((left, right) => (keys[left]! < keys[right]! ? -1 : 1));
  const tags: Record<string, string> = {};
  for (const index of order) tags[keys[index]!] = values[index]!;
  return tags;
}
