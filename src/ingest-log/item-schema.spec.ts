import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ITEM_SHAPES, type AnalyticsItem, type EventItem, type LogItem, type MetricItem, type RequestItem, type Tags } from './ingest-log.items.js';
import { storedOrder, type HistogramData } from './item-schema.js';

/** True only when A and B are the same type (each property, optionality included). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(check: Equal<A, B>) => check;

// The item types inferred from the shapes are exactly those consumers of the log were written
// against (the hand-written interfaces before the shapes); this file fails to compile if they drift.
same<MetricItem, { name: string; value: number; type: 'gauge' | 'count' | 'distribution' | 'histogram'; timestamp: number; tags: Tags; unit?: string; histogram?: HistogramData }>(true);
same<EventItem, { title: string; text: string; alertType: 'info' | 'warning' | 'error' | 'success'; tags: Tags; timestamp: number; source?: string }>(true);
same<
  LogItem,
  {
    message: string;
    level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
    timestamp: number;
    service?: string;
    attributes?: Record<string, unknown>;
    traceId?: string;
    requestId?: string;
    userId?: string;
    durationMs?: number;
  }
>(true);
same<RequestItem, { service: string; operation?: string; durationMs: number; statusCode?: number; success: boolean; timestamp: number }>(true);
same<AnalyticsItem, { userId: string; sessionId?: string; type: string; page?: string; properties?: Record<string, unknown>; timestamp: number }>(true);
same<MetricItem, { name: string; value: number; type: 'gauge'; timestamp: number; tags: Tags }>(false);

test('stored field order: always-present fields first, then optional ones, unless the shape says', () => {
  assert.deepEqual(storedOrder(ITEM_SHAPES.metric), ['name', 'value', 'type', 'timestamp', 'tags', 'unit', 'histogram']);
  assert.deepEqual(storedOrder(ITEM_SHAPES.event), ['title', 'text', 'alertType', 'tags', 'timestamp', 'source']);
  assert.deepEqual(storedOrder(ITEM_SHAPES.request), ['service', 'durationMs', 'success', 'timestamp', 'operation', 'statusCode']);
  assert.deepEqual(storedOrder(ITEM_SHAPES.analytics), ['userId', 'type', 'timestamp', 'sessionId', 'page', 'properties']);
  assert.throws(() => storedOrder({ fields: { a: { type: 'timestamp' }, b: { type: 'tags' } }, stored: ['a'] }), /must list every field once/);
});
