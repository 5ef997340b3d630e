import { ITEM_SHAPES, type AnalyticsItem, type IngestKind, type ItemByKind, type LogItem } from '../ingest-log/ingest-log.items.js';
import { alwaysPresent, storedOrder, type AnyItemShape } from '../ingest-log/item-schema.js';
import { FIELD_RULES, failField, isPlainObject, ItemError, type ItemPath, type TimeBounds } from './field-rules.js';

/**
 * Item validation, compiled once per kind from the kind's shape (src/ingest-log/ingest-log.items.ts):
 * one function that checks and normalises an item in a single pass and names the failing field
 * (`metrics[3].value must be a finite number`). The same shapes give the item types and the
 * OpenAPI schemas (item-openapi.ts), so validation, types and documentation cannot drift.
 *
 * Why generated code: it runs per item on 1000-item batches. Each field's rule is called
 * from its own call site, which V8 inlines as it did the hand-written checkers this replaced;
 * an interpreter looping over the fields (one shared call site for every rule) would not.
 * The source is built only from our own shapes (field names and positions), never from input.
 */

export { LIMITS, METRIC_NAME } from '../ingest-log/ingest-log.items.js';
export { BatchPosition, ItemError, parseTimestamp, type TimeBounds } from './field-rules.js';

type Validator<Item> = (raw: Record<string, unknown>, path: ItemPath, bounds: TimeBounds) => Item;

/** `shape`'s validator: its fields checked in the order written, the item built in stored order. */
function compile<Item>(kind: string, shape: AnyItemShape): Validator<Item> {
  const names = Object.keys(shape.fields);
  const specs = names.map((name) => shape.fields[name]!);
  const key = (name: string) => JSON.stringify(name);
  const local = (name: string) => `v${names.indexOf(name)}`;
  const earlier = (index: number) => `{ ${names.slice(0, index).map((name) => `${key(name)}: ${local(name)}`).join(', ')} }`;
  const lines: string[] = [];
  specs.forEach((spec, index) => {
    const name = names[index]!;
    lines.push(`let v${index} = rule${index}(raw[${key(name)}], path, ${key(name)}, spec${index}, bounds);`);
    if ('check' in spec && spec.check !== undefined) {
      lines.push(`{ const problem = spec${index}.check(v${index}, ${earlier(index)}); if (problem !== null) failField(path, ${key(name)}, problem); }`);
    }
    if ('derive' in spec && spec.derive !== undefined) lines.push(`v${index} = spec${index}.derive(v${index}, ${earlier(index)});`);
  });
  // The always-present fields that lead the stored order go in one literal (one hidden class);
  // the rest are added in order, each only when present.
  const order = storedOrder(shape);
  const leading = order.findIndex((name) => !alwaysPresent(shape.fields[name]!));
  const literal = leading === -1 ? order : order.slice(0, leading);
  lines.push(`const item = { ${literal.map((name) => `${key(name)}: ${local(name)}`).join(', ')} };`);
  for (const name of order.slice(literal.length)) lines.push(`if (${local(name)} !== undefined) item[${key(name)}] = ${local(name)};`);
  lines.push('return item;');
  const source = [
    "'use strict';",
    ...specs.map((spec, index) => `const rule${index} = rules[${JSON.stringify(spec.type)}], spec${index} = specs[${index}];`),
    `return function validate_${kind}(raw, path, bounds) {`,
    ...lines.map((line) => `  ${line}`),
    '};',
  ].join('\n');
  return new Function('rules', 'specs', 'failField', source)(FIELD_RULES, specs, failField) as Validator<Item>;
}

/**
 * `shape`'s in-place validator, for items the caller gives away (freshly parsed JSON that nothing
 * else keeps): the item itself when it is exactly what the validator would build (every field's
 * rule returns its value unchanged, check and derive included, and its own keys are the stored
 * fields it holds, in stored order), else undefined and the caller validates by copying (which
 * also writes the message of an invalid item: this one never throws). Under 1000-point batches,
 * copying each item and its tags was ~150 bytes of garbage a point, kept alive until the commit.
 *
 * A check or derive sees the item itself as `earlier`: by then every earlier field is known to
 * be stored as it is, and (their contract) they read earlier fields only.
 */
function compileInPlace<Item>(kind: string, shape: AnyItemShape): Validator<Item | undefined> {
  const names = Object.keys(shape.fields);
  const specs = names.map((name) => shape.fields[name]!);
  const key = (name: string) => JSON.stringify(name);
  const lines: string[] = ['if (Object.getPrototypeOf(raw) !== Object.prototype) return undefined;', 'let present = 0;', 'try {'];
  specs.forEach((spec, index) => {
    const name = names[index]!;
    lines.push(`  const v${index} = raw[${key(name)}];`, `  if (v${index} !== undefined) present++;`);
    lines.push(`  if (rule${index}(v${index}, path, ${key(name)}, spec${index}, bounds, true) !== v${index}) return undefined;`);
    if ('check' in spec && spec.check !== undefined) lines.push(`  if (spec${index}.check(v${index}, raw) !== null) return undefined;`);
    if ('derive' in spec && spec.derive !== undefined) lines.push(`  if (spec${index}.derive(v${index}, raw) !== v${index}) return undefined;`);
  });
  lines.push('} catch { return undefined; }');
  // Its own enumerable keys, in order, must be the stored order's fields it holds (a subsequence
  // of the stored order as long as the count of defined fields): nothing more, nothing moved.
  const order = storedOrder(shape);
  lines.push('let next = 0, keys = 0;');
  lines.push(`for (const key in raw) { while (next < ${order.length} && order[next] !== key) next++; if (next === ${order.length}) return undefined; next++; keys++; }`);
  lines.push('return keys === present ? raw : undefined;');
  const source = [
    "'use strict';",
    ...specs.map((spec, index) => `const rule${index} = rules[${JSON.stringify(spec.type)}], spec${index} = specs[${index}];`),
    `return function validate_${kind}_in_place(raw, path, bounds) {`,
    ...lines.map((line) => `  ${line}`),
    '};',
  ].join('\n');
  return new Function('rules', 'specs', 'order', source)(FIELD_RULES, specs, order) as Validator<Item | undefined>;
}

const IN_PLACE_VALIDATORS = Object.fromEntries(Object.entries(ITEM_SHAPES).map(([kind, shape]) => [kind, compileInPlace(kind, shape)])) as {
  [Kind in IngestKind]: Validator<ItemByKind[Kind] | undefined>;
};

const VALIDATORS = Object.fromEntries(Object.entries(ITEM_SHAPES).map(([kind, shape]) => [kind, compile(kind, shape)])) as {
  [Kind in IngestKind]: Validator<ItemByKind[Kind]>;
};

/**
 * Validates one item; returns the normalised item, or the message naming the
 * failing field. `path` is how the message names the item (`metrics[3]`). `owned`: the caller
 * gives `raw` away (nothing else keeps or changes it), so an item already in stored form is
 * returned as it is rather than copied (see compileInPlace).
 */
export function validateItem<Kind extends IngestKind>(
  kind: Kind,
  raw: unknown,
  path: ItemPath,
  bounds: TimeBounds,
  owned = false,
): { item: ItemByKind[Kind] } | { error: string } {
  if (!isPlainObject(raw)) return { error: `${path} must be an object` };
  if (owned) {
    const item = IN_PLACE_VALIDATORS[kind](raw, path, bounds);
    if (item !== undefined) return { item };
  }
  try {
    return { item: VALIDATORS[kind](raw, path, bounds) };
  } catch (error) {
    if (error instanceof ItemError) return { error: error.message };
    throw error;
  }
}

/** The user an item names, for erasure. */
export function userIdOf(kind: IngestKind, item: ItemByKind[IngestKind]): string | null {
  if (kind === 'analytics') return (item as AnalyticsItem).userId;
  if (kind === 'log') return (item as LogItem).userId ?? null;
  return null;
}
