/**
 * The vocabulary in which each kind of item is declared once (ingest-log.items.ts): its
 * fields, each with a type, whether it is required or has a default, its limits and which
 * string rule applies. From one declaration come the item's TypeScript type (ItemOf, below),
 * the validation ingest runs (compiled once per kind by src/ingest/ingest.validation.ts) and
 * the OpenAPI schema an intake documents (src/ingest/item-openapi.ts).
 */
export type Tags = Record<string, string>;

/** What the OpenAPI document says of a field beyond its rules. */
export interface FieldDoc {
  description?: string;
  example?: unknown;
}

/** The values of the fields checked before this one (by their names), for rules that span fields. */
export type EarlierFields = Readonly<Record<string, unknown>>;

/**
 * A string. `text: 'key'` may become a key, an id, a column or report text, so it is held to
 * keyStringProblem (no control characters, no lone surrogates); `text: 'free'` is only stored
 * inside the item's JSON: it keeps line breaks and a lone surrogate becomes U+FFFD. Required
 * strings answer a missing value with `must be a string`. `check` adds a rule that spans
 * fields; it also runs when the field is absent (value undefined) and returns the problem or null.
 */
export interface StringField {
  type: 'string';
  text: 'key' | 'free';
  required?: true;
  /** At least this many characters; 1 unless said (0 allows the empty string). */
  min?: number;
  max: number;
  default?: string;
  check?: (value: string | undefined, earlier: EarlierFields) => string | null;
  doc?: FieldDoc;
}

/** A string matched whole by `regex` (which also bounds its length and characters); `problem` says what it must be. */
export interface PatternField {
  type: 'pattern';
  required: true;
  regex: RegExp;
  problem: string;
  doc?: FieldDoc;
}

/** A finite number from `min` to `max`; a required one answers a missing value with `is required`. */
export interface NumberField {
  type: 'number';
  required?: true;
  min: number;
  max: number;
  doc?: FieldDoc;
}

/** An optional integer from `min` to `max`. */
export interface IntegerField {
  type: 'integer';
  min: number;
  max: number;
  doc?: FieldDoc;
}

/** A boolean with a default; `derive` may replace the value from earlier fields. */
export interface BooleanField {
  type: 'boolean';
  default: boolean;
  derive?: (value: boolean, earlier: EarlierFields) => boolean;
  doc?: FieldDoc;
}

/** One of a few strings, with a default. */
export interface EnumField<Value extends string = string> {
  type: 'enum';
  values: readonly Value[];
  default: Value;
  doc?: FieldDoc;
}

/** Epoch milliseconds or ISO 8601, within the bounds of ingest; defaults to the time of receipt. */
export interface TimestampField {
  type: 'timestamp';
}

/** A flat object of string values (bounded in count and length, key strings); defaults to {}. */
export interface TagsField {
  type: 'tags';
}

/** An optional free-form JSON object, nested at most LIMITS.objectDepth deep. */
export interface ObjectField {
  type: 'object';
  doc?: FieldDoc;
}

/**
 * A histogram of observations: `count` of them adding up to `sum`, in buckets with `bounds`
 * (ascending upper bounds; `counts` has one more entry, the bucket above the last bound), with
 * their `min` and `max` when known. (Issue 21: OTLP histograms are kept, not reduced.)
 */
export interface HistogramData {
  count: number;
  sum: number;
  bounds: number[];
  counts: number[];
  min?: number;
  max?: number;
}

/** An optional histogram (HistogramData, bounded by LIMITS.histogramBounds); `check` as StringField's. */
export interface HistogramField {
  type: 'histogram';
  check?: (value: HistogramData | undefined, earlier: EarlierFields) => string | null;
  doc?: FieldDoc;
}

export type FieldSpec = StringField | PatternField | NumberField | IntegerField | BooleanField | EnumField | TimestampField | TagsField | ObjectField | HistogramField;

/**
 * One kind of item. Fields are checked in the order written (the first failing one is the
 * one named). The stored item holds them in `stored` order when given, else the fields always
 * present (required or defaulted) in the order written, then the optional ones: stored JSON
 * and the metric fast path (src/ingest/item-json.ts) depend on that order.
 */
export interface ItemShape<Fields extends Record<string, FieldSpec>> {
  fields: Fields;
  stored?: readonly (keyof Fields & string)[];
}

/** Any kind's shape, as validation and documentation read it. */
export interface AnyItemShape {
  fields: Readonly<Record<string, FieldSpec>>;
  stored?: readonly string[];
}

/** Declares a kind of item; `const` keeps enum values and required flags literal for ItemOf. */
export function itemShape<const Fields extends Record<string, FieldSpec>>(shape: ItemShape<Fields>): ItemShape<Fields> {
  return shape;
}

/** The TypeScript type of a field's stored value. */
type ValueOf<Field> = Field extends { type: 'string' | 'pattern' }
  ? string
  : Field extends { type: 'number' | 'integer' | 'timestamp' }
    ? number
    : Field extends { type: 'boolean' }
      ? boolean
      : Field extends EnumField<infer Value>
        ? Value
        : Field extends { type: 'tags' }
          ? Tags
          : Field extends { type: 'object' }
            ? Record<string, unknown>
            : Field extends { type: 'histogram' }
              ? HistogramData
              : never;

/** True when a stored item always holds the field: required, defaulted, or defaulted by its type. */
export type AlwaysPresent<Field> = Field extends { required: true }
  ? true
  : Field extends { default: unknown }
    ? true
    : Field extends { type: 'timestamp' | 'tags' }
      ? true
      : false;

type Flatten<Type> = { -readonly [Key in keyof Type]: Type[Key] };

/** The stored item a shape declares: every default applied, every timestamp in epoch milliseconds. */
export type ItemOf<Shape extends AnyItemShape> = Flatten<
  { [Key in keyof Shape['fields'] as AlwaysPresent<Shape['fields'][Key]> extends true ? Key : never]: ValueOf<Shape['fields'][Key]> } & {
    [Key in keyof Shape['fields'] as AlwaysPresent<Shape['fields'][Key]> extends true ? never : Key]?: ValueOf<Shape['fields'][Key]>;
  }
>;

/** Whether a stored item always holds the field (the run-time twin of AlwaysPresent). */
export function alwaysPresent(field: FieldSpec): boolean {
  return ('required' in field && field.required === true) || ('default' in field && field.default !== undefined) || field.type === 'timestamp' || field.type === 'tags';
}

/** The order of a stored item's fields (see ItemShape). */
export function storedOrder(shape: AnyItemShape): readonly string[] {
  const names = Object.keys(shape.fields);
  if (shape.stored === undefined) return [...names.filter((name) => alwaysPresent(shape.fields[name]!)), ...names.filter((name) => !alwaysPresent(shape.fields[name]!))];
  if (shape.stored.length !== names.length || !names.every((name) => shape.stored!.includes(name))) {
    throw new Error(`stored order ${shape.stored.join(', ')} must list every field once: ${names.join(', ')}`);
  }
  return shape.stored;
}
