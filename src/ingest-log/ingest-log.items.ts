import { itemShape, type AnyItemShape, type ItemOf } from './item-schema.js';

/**
 * The ingest log's vocabulary: the kinds of entry, and the item each kind holds, each declared
 * once as a shape (./item-schema.ts). Items are as Vigil stores them after validation: every
 * default applied, every timestamp in epoch milliseconds, unknown fields dropped. Consumers of
 * the log read exactly these types; ingest validates with, and intakes document, these shapes.
 * A new field or a new metric type is a change here only.
 */
export type { HistogramData, Tags } from './item-schema.js';

export const LIMITS = {
  maxTags: 32,
  tagKeyLength: 100,
  tagValueLength: 200,
  metricNameLength: 200,
  unitLength: 32,
  titleLength: 100,
  textLength: 4000,
  messageLength: 32_768,
  identifierLength: 128,
  serviceLength: 100,
  operationLength: 200,
  sourceLength: 100,
  typeLength: 100,
  pageLength: 2000,
  /** Nesting depth of free-form `attributes` / `properties` objects. */
  objectDepth: 8,
  futureToleranceMs: 10 * 60_000,
  /** 2000-01-01T00:00:00Z: an earlier timestamp is a unit mistake (seconds for milliseconds), not data. */
  earliestTimestampMs: 946_684_800_000,
  /** A request or log duration: one day at most (a longer one is a unit mistake or a broken timer). */
  maxDurationMs: 86_400_000,
  /** A metric value's magnitude: sums of many such values stay finite. */
  maxMetricMagnitude: 1e18,
  /** Bucket bounds of one histogram (an OTLP exponential histogram has up to 160 buckets a side). */
  histogramBounds: 400,
} as const;

export const METRIC_NAME = /^[A-Za-z][A-Za-z0-9_.:-]{0,199}$/;

/**
 * Analytics events are indexed by (type, page, user id, time), and a Postgres
 * btree entry holds at most 2704 bytes: an event over it would fail the analytics
 * consumer on every retry. This leaves room for the time and the entry's headers.
 */
const ANALYTICS_KEY_BYTES = 2600;
/** Below this many characters a page cannot reach the bound whatever its script (4 bytes each at most). */
const PAGE_LENGTH_THAT_ALWAYS_FITS = Math.floor((ANALYTICS_KEY_BYTES - 4 * (LIMITS.typeLength + LIMITS.identifierLength)) / 4);

/** An analytics page: required for a page_view, and (type, page, userId) must fit the analytics index. */
function pageProblem(page: string | undefined, earlier: Readonly<Record<string, unknown>>): string | null {
  const type = earlier['type'] as string;
  if (page === undefined) return type === 'page_view' ? 'is required when type is page_view' : null;
  // Only non-ASCII text gets near it: 2000 characters of CJK are 6000 bytes.
  if (page.length > PAGE_LENGTH_THAT_ALWAYS_FITS && Buffer.byteLength(type) + Buffer.byteLength(page) + Buffer.byteLength(earlier['userId'] as string) > ANALYTICS_KEY_BYTES) {
    return `is too long: type, page and userId together must fit in ${ANALYTICS_KEY_BYTES} bytes of UTF-8`;
  }
  return null;
}

const FREE_FORM = { description: `Free-form, nested at most ${LIMITS.objectDepth} levels` };

export const METRIC_SHAPE = itemShape({
  fields: {
    name: { type: 'pattern', required: true, regex: METRIC_NAME, problem: 'must be 1-200 characters of [A-Za-z0-9_.:-] starting with a letter', doc: { example: 'api.response_time' } },
    value: { type: 'number', required: true, min: -LIMITS.maxMetricMagnitude, max: LIMITS.maxMetricMagnitude, doc: { example: 12.5, description: 'A finite number' } },
    type: { type: 'enum', values: ['gauge', 'count', 'distribution', 'histogram'], default: 'gauge' },
    timestamp: { type: 'timestamp' },
    tags: { type: 'tags' },
    unit: { type: 'string', text: 'key', max: LIMITS.unitLength, doc: { example: 'ms' } },
    histogram: {
      type: 'histogram',
      check: (histogram, earlier) => ((earlier['type'] === 'histogram') === (histogram !== undefined) ? null : 'is required when type is histogram, and only then'),
      doc: { description: 'Required with type histogram (whose value is then the sum), refused otherwise: count, sum, bounds and counts (required), min and max' },
    },
  },
});

export const EVENT_SHAPE = itemShape({
  fields: {
    title: { type: 'string', text: 'free', required: true, max: LIMITS.titleLength, doc: { example: 'Deploy finished' } },
    text: { type: 'string', text: 'free', min: 0, max: LIMITS.textLength, default: '' },
    alertType: { type: 'enum', values: ['info', 'warning', 'error', 'success'], default: 'info' },
    tags: { type: 'tags' },
    timestamp: { type: 'timestamp' },
    source: { type: 'string', text: 'key', max: LIMITS.sourceLength },
  },
});

export const LOG_SHAPE = itemShape({
  fields: {
    message: { type: 'string', text: 'free', required: true, max: LIMITS.messageLength },
    level: { type: 'enum', values: ['debug', 'info', 'warn', 'error', 'fatal'], default: 'info' },
    timestamp: { type: 'timestamp' },
    service: { type: 'string', text: 'key', max: LIMITS.serviceLength },
    attributes: { type: 'object', doc: FREE_FORM },
    traceId: { type: 'string', text: 'key', max: LIMITS.identifierLength },
    requestId: { type: 'string', text: 'key', max: LIMITS.identifierLength },
    userId: { type: 'string', text: 'key', max: LIMITS.identifierLength },
    durationMs: { type: 'number', min: 0, max: LIMITS.maxDurationMs },
  },
});

export const REQUEST_SHAPE = itemShape({
  fields: {
    service: { type: 'string', text: 'key', required: true, max: LIMITS.serviceLength, doc: { example: 'api' } },
    durationMs: { type: 'number', required: true, min: 0, max: LIMITS.maxDurationMs, doc: { example: 123.4 } },
    statusCode: { type: 'integer', min: 100, max: 599, doc: { description: 'When given, success is statusCode < 500' } },
    success: {
      type: 'boolean',
      default: true,
      derive: (success, earlier) => (typeof earlier['statusCode'] === 'number' ? earlier['statusCode'] < 500 : success),
      doc: { description: 'Used when statusCode is absent; defaults to true' },
    },
    timestamp: { type: 'timestamp' },
    operation: { type: 'string', text: 'key', max: LIMITS.operationLength, doc: { example: 'GET /users' } },
  },
  stored: ['service', 'durationMs', 'success', 'timestamp', 'operation', 'statusCode'],
});

export const ANALYTICS_SHAPE = itemShape({
  fields: {
    userId: { type: 'string', text: 'key', required: true, max: LIMITS.identifierLength, doc: { example: 'u1' } },
    type: { type: 'string', text: 'key', required: true, max: LIMITS.typeLength, doc: { example: 'page_view', description: 'session_start, session_end, page_view or any action name' } },
    timestamp: { type: 'timestamp' },
    sessionId: { type: 'string', text: 'key', max: LIMITS.identifierLength, doc: { description: 'Inferred from 30 minutes of inactivity when absent' } },
    page: { type: 'string', text: 'key', max: LIMITS.pageLength, check: pageProblem, doc: { example: '/pricing', description: 'Required when type is page_view' } },
    properties: { type: 'object', doc: FREE_FORM },
  },
});

/** Each kind's shape: the one declaration of what an item of that kind is. */
export const ITEM_SHAPES = {
  metric: METRIC_SHAPE,
  event: EVENT_SHAPE,
  log: LOG_SHAPE,
  request: REQUEST_SHAPE,
  analytics: ANALYTICS_SHAPE,
} as const satisfies { [Kind in IngestKind]: AnyItemShape };

export type MetricItem = ItemOf<typeof METRIC_SHAPE>;
export type EventItem = ItemOf<typeof EVENT_SHAPE>;
export type LogItem = ItemOf<typeof LOG_SHAPE>;
export type RequestItem = ItemOf<typeof REQUEST_SHAPE>;
export type AnalyticsItem = ItemOf<typeof ANALYTICS_SHAPE>;
export type MetricType = MetricItem['type'];
export type AlertType = EventItem['alertType'];
export type LogLevel = LogItem['level'];

/** The item each kind of entry holds. */
export interface ItemByKind {
  metric: MetricItem;
  event: EventItem;
  log: LogItem;
  request: RequestItem;
  analytics: AnalyticsItem;
}

/** The five kinds of item ingest accepts; each is one entry of the ingest log. */
export type IngestKind = keyof ItemByKind;
export type AnyItem = ItemByKind[IngestKind];
