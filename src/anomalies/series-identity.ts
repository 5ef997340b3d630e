import type { MetricItem, RequestItem, Tags } from '../ingest/ingest.types.js';
import type { LogEntry } from '../storage/ingest-log.repository.js';

/**
 * The metric name under which a service's request latency is modelled and reported: one series
 * per service, tagged `service=<name>`, valued by each request's durationMs at its own timestamp.
 */
export const REQUEST_LATENCY_METRIC = 'request.duration_ms';

export type SeriesSource = 'metric' | 'request';

/** One point of one series, taken from an ingest-log entry. */
export interface SeriesPoint {
  /** Identity of the series: source, metric name and sorted tags (sources never share a model). */
  key: string;
  source: SeriesSource;
  metric: string;
  tags: Tags;
  timestamp: number;
  value: number;
}

function tagPart(tags: Tags): string {
  const names = Object.keys(tags);
  if (names.length === 0) return '';
  names.sort();
  let part = '';
  for (const name of names) part += `\u0000${name}=${tags[name]}`;
  return part;
}

/** The identity of a series (see SeriesPoint.key). */
export function seriesIdentity(source: SeriesSource, metric: string, tags: Tags): string {
  return source === 'request' ? `r\u0000${tags['service'] ?? ''}` : `m\u0000${metric}${tagPart(tags)}`;
}

/** The series point of a metric or request entry; null for any other entry or a malformed payload. */
export function pointOf(entry: LogEntry): SeriesPoint | null {
  const kind = entry.kind;
  if (kind === 'metric') {
    const item = entry.payload as Partial<MetricItem> | null;
    if (!item || typeof item.name !== 'string' || typeof item.value !== 'number') return null;
    const tags = item.tags ?? {};
    return { key: seriesIdentity('metric', item.name, tags), source: 'metric', metric: item.name, tags, timestamp: entry.eventTime, value: item.value };
  }
  if (kind === 'request') {
    const item = entry.payload as Partial<RequestItem> | null;
    if (!item || typeof item.service !== 'string' || typeof item.durationMs !== 'number') return null;
    return {
      key: seriesIdentity('request', REQUEST_LATENCY_METRIC, { service: item.service }),
      source: 'request',
      metric: REQUEST_LATENCY_METRIC,
      tags: { service: item.service },
      timestamp: entry.eventTime,
      value: item.durationMs,
    };
  }
  return null;
}
