import { KeyOrderMemo } from '../common/key-order-memo.js';
import type { MetricItem, RequestItem, Tags } from '../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../ingest-log/log-entry.js';

/**
 * The metric name under which a service's request latency is modelled and reported: one series
 * per service, tagged `service=<name>`, valued by each request's durationMs at its own timestamp.
 */
export const REQUEST_LATENCY_METRIC = 'request.duration_ms';

export type SeriesSource = 'metric' | 'request';

/** One point of one series, taken from an ingest-log entry. */
export interface SeriesPoint {
  /** Identity of the series (see seriesIdentity). */
  identity: string[];
  source: SeriesSource;
  metric: string;
  tags: Tags;
  timestamp: number;
  value: number;
}

// A pure cache, so one for the module (each thread loads its own).
const sortedTagNames = new KeyOrderMemo((names) => names.sort());

/**
 * The identity of a series, as parts: the source ('m' or 'r': sources never share a model), then
 * for a metric its name and each tag's name and value in name order, for requests the service.
 * Parts are what a point looks its series up by (a TupleMap); identityText() is what is stored.
 */
export function seriesIdentity(source: SeriesSource, metric: string, tags: Tags): string[] {
  if (source === 'request') return ['r', tags['service'] ?? ''];
  // Sized once: growing ['m', metric] by push copied its elements into a new, larger store
  // (~300 bytes of garbage a point under 1000-point batches, the anomaly consumer's largest).
  const names = sortedTagNames.of(tags);
  const identity = new Array<string>(2 + 2 * names.length);
  identity[0] = 'm';
  identity[1] = metric;
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    identity[2 + 2 * index] = name;
    identity[3 + 2 * index] = tags[name]!;
  }
  return identity;
}

/**
 * The identity as text, `m\0<metric>\0<tag>=<value>...` or `r\0<service>`: a series' id is its
 * hash. Identities that differ only in where a tag's `=` falls have one text, so they are one series.
 */
export function identityText(identity: readonly string[]): string {
  let text = `${identity[0]}\u0000${identity[1]}`;
  for (let index = 2; index < identity.length; index += 2) text += `\u0000${identity[index]}=${identity[index + 1]}`;
  return text;
}

/** The series point of a metric or request entry; null for any other entry or a malformed payload. */
export function pointOf(entry: LogEntry): SeriesPoint | null {
  const kind = entry.kind;
  if (kind === 'metric') {
    const item: Partial<MetricItem> | null = entry.payload;
    if (!item || typeof item.name !== 'string' || typeof item.value !== 'number') return null;
    const tags = item.tags ?? {};
    return { identity: seriesIdentity('metric', item.name, tags), source: 'metric', metric: item.name, tags, timestamp: entry.eventTime, value: item.value };
  }
  if (kind === 'request') {
    const item: Partial<RequestItem> | null = entry.payload;
    if (!item || typeof item.service !== 'string' || typeof item.durationMs !== 'number') return null;
    const tags = { service: item.service };
    return {
      identity: seriesIdentity('request', REQUEST_LATENCY_METRIC, tags),
      source: 'request',
      metric: REQUEST_LATENCY_METRIC,
      tags,
      timestamp: entry.eventTime,
      value: item.durationMs,
    };
  }
  return null;
}
