import { ITEM_SHAPES, type IngestKind, type ItemByKind, type MetricItem, type Tags } from '../ingest-log/ingest-log.items.js';
import { storedOrder } from '../ingest-log/item-schema.js';

// Characters JSON.stringify writes as escapes; a string without them is written as is.
// Surrogates are listed whole: a lone one is escaped, a pair is not, and either way the
// slow path gets it right.
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be found
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

function tagsJson(tags: Tags): string {
  let json = '{';
  for (const key in tags) json += `${json.length > 1 ? ',' : ''}${jsonString(key)}:${jsonString(tags[key]!)}`;
  return `${json}}`;
}

/**
 * A validated metric item's JSON, exactly as JSON.stringify writes it, faster: 0.45
 * against 0.63 µs per item, measured with the join into a row's payload on the bench's
 * items. Writing the stored text of the most frequent item was the largest single cost
 * of a 1000-point batch on the request thread. Relies on
 * what validation guarantees: a name of [A-Za-z0-9_.:-], a type from the enum, finite
 * numbers, tags of string values, and the stored field order of METRIC_SHAPE (src/ingest-log/ingest-log.items.ts).
 */
function metricJson(item: MetricItem): string {
  const unit = item.unit === undefined ? '' : `,"unit":${jsonString(item.unit)}`;
  const histogram = item.histogram === undefined ? '' : `,"histogram":${JSON.stringify(item.histogram)}`;
  return `{"name":"${item.name}","value":${item.value},"type":"${item.type}","timestamp":${item.timestamp},"tags":${tagsJson(item.tags)}${unit}${histogram}}`;
}

/** The metric fields and types metricJson writes, in stored order. */
const METRIC_FIELDS_WRITTEN = 'name:pattern,value:number,type:enum,timestamp:timestamp,tags:tags,unit:string,histogram:histogram';

/**
 * Whether metricJson writes today's metric shape. When the shape gains or changes a field,
 * metrics are written by JSON.stringify (correct, slower) until metricJson is brought up to
 * date; item-json.spec.ts says so.
 */
export const METRIC_FAST_PATH = storedOrder(ITEM_SHAPES.metric).map((name) => `${name}:${ITEM_SHAPES.metric.fields[name as keyof typeof ITEM_SHAPES.metric.fields].type}`).join(',') === METRIC_FIELDS_WRITTEN;

/** A validated item's JSON as the ingest log stores it: JSON.stringify's text, faster for metrics. */
export function itemJson<Kind extends IngestKind>(kind: Kind, item: ItemByKind[Kind]): string {
  return kind === 'metric' && METRIC_FAST_PATH ? metricJson(item as MetricItem) : JSON.stringify(item);
}

/** Where one metric item ends and the next begins in JSON.stringify's text of an array of them. */
const METRIC_BOUNDARY = '},{"name":';

/**
 * The JSON of each validated item of `items`, as itemJson writes it. For metrics: one
 * JSON.stringify of the whole array, cut at the items' boundaries into slices of that one text
 * (V8 keeps a slice as a reference into it, not a copy). Per item, metricJson's template built
 * a tree of a dozen short strings (~0.9 KB of garbage a point, the largest allocation of a
 * 1000-point batch); this allocates the array's text and a small slice a point.
 *
 * The boundaries are exact: every stored metric item starts with its name (stored order,
 * METRIC_FAST_PATH), tags hold strings only and a histogram numbers, and inside a JSON string
 * a quote is escaped, so `},{"name":` occurs in the text between two items and nowhere else.
 * Should the count of boundaries ever differ, each item is written on its own.
 */
export function itemsJson<Kind extends IngestKind>(kind: Kind, items: ReadonlyArray<ItemByKind[Kind]>): string[] {
  const texts: string[] = new Array<string>(items.length);
  if (kind === 'metric' && METRIC_FAST_PATH && items.length > 1) {
    const text = JSON.stringify(items);
    let from = 1;
    let index = 0;
    for (; index < items.length - 1; index++) {
      const boundary = text.indexOf(METRIC_BOUNDARY, from);
      if (boundary === -1) break;
      texts[index] = text.slice(from, boundary + 1);
      from = boundary + 2;
    }
    if (index === items.length - 1 && text.indexOf(METRIC_BOUNDARY, from) === -1) {
      texts[index] = text.slice(from, text.length - 1);
      return texts;
    }
  }
  for (let index = 0; index < items.length; index++) texts[index] = itemJson(kind, items[index]!);
  return texts;
}
