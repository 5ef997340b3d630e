import { ITEM_SHAPES, LIMITS, type IngestKind } from '../ingest-log/ingest-log.items.js';
import type { FieldSpec } from '../ingest-log/item-schema.js';

/**
 * The OpenAPI schema of each field of a kind's items, from the kind's shape (the one
 * declaration that validation and the item types also come from). An intake whose body
 * carries items as Vigil's own JSON documents them with these; rules a schema cannot say
 * (no lone surrogates, the timestamp window, cross-field rules) are in the descriptions.
 */

const TIMESTAMP_DOC = {
  description:
    'Epoch milliseconds (not seconds) or a strict ISO 8601 date-time; defaults to the time of receipt; from 2000-01-01 to at most ' +
    '10 minutes in the future; analytics events no older than the analytics retention',
  oneOf: [{ type: 'number' }, { type: 'string', format: 'date-time' }],
  example: 1767225600000,
};
const TAGS_DOC = {
  type: 'object',
  additionalProperties: { type: 'string' },
  description: `At most ${LIMITS.maxTags} keys; keys and values well-formed Unicode without control characters`,
  example: { endpoint: '/users' },
};
/** Names, ids and tags hold no control characters (nor lone surrogates, which a pattern cannot say). */
const KEY_PATTERN = '^[^\\u0000-\\u001F\\u007F-\\u009F]*$';

/** A field's OpenAPI schema. */
function fieldSchema(field: FieldSpec): Record<string, unknown> {
  switch (field.type) {
    case 'string': {
      const min = field.min ?? 1;
      return {
        type: 'string',
        ...(min > 0 ? { minLength: min } : {}),
        maxLength: field.max,
        ...(field.text === 'key' ? { pattern: KEY_PATTERN } : {}),
        ...(field.default !== undefined ? { default: field.default } : {}),
        ...field.doc,
      };
    }
    case 'pattern':
      return { type: 'string', pattern: field.regex.source, ...field.doc };
    case 'number':
      return { type: 'number', minimum: field.min, maximum: field.max, ...field.doc };
    case 'integer':
      return { type: 'integer', minimum: field.min, maximum: field.max, ...field.doc };
    case 'boolean':
      return { type: 'boolean', default: field.default, ...field.doc };
    case 'enum':
      return { type: 'string', enum: [...field.values], default: field.default, ...field.doc };
    case 'timestamp':
      return { ...TIMESTAMP_DOC };
    case 'tags':
      return { ...TAGS_DOC };
    case 'object':
      return { type: 'object', additionalProperties: true, ...field.doc };
    case 'histogram':
      return {
        // Which of these are required is said in the description: a `required` list on a
        // property is read by @nestjs/swagger as the property's own required flag.
        type: 'object',
        properties: {
          count: { type: 'integer', minimum: 0 },
          sum: { type: 'number' },
          bounds: { type: 'array', items: { type: 'number' }, maxItems: LIMITS.histogramBounds, description: 'Ascending upper bounds' },
          counts: { type: 'array', items: { type: 'integer', minimum: 0 }, maxItems: LIMITS.histogramBounds + 1, description: 'One per bucket, one more than bounds; they add up to count' },
          min: { type: 'number' },
          max: { type: 'number' },
        },
        ...field.doc,
      };
  }
}

/** One documented field of an item. */
export interface DocumentedField {
  name: string;
  required: boolean;
  schema: Record<string, unknown>;
}

/** The fields of `kind`'s items as an intake documents them, in the order the shape declares them. */
export function documentedFields(kind: IngestKind): DocumentedField[] {
  const fields: Readonly<Record<string, FieldSpec>> = ITEM_SHAPES[kind].fields;
  return Object.entries(fields).map(([name, field]) => ({ name, required: 'required' in field && field.required === true, schema: fieldSchema(field) }));
}
