/**
 * The ingest log's vocabulary: the kinds of entry, and the item each kind holds. Items are
 * as Vigil stores them after validation: every default applied, every timestamp in epoch
 * milliseconds, unknown fields dropped. Consumers of the log read exactly these shapes.
 */
export type Tags = Record<string, string>;
export type MetricType = 'gauge' | 'count' | 'distribution';
export type AlertType = 'info' | 'warning' | 'error' | 'success';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface MetricItem { name: string; value: number; type: MetricType; timestamp: number; tags: Tags; unit?: string }
export interface EventItem { title: string; text: string; alertType: AlertType; tags: Tags; timestamp: number; source?: string }
export interface LogItem {
  message: string;
  level: LogLevel;
  timestamp: number;
  service?: string;
  attributes?: Record<string, unknown>;
  traceId?: string;
  requestId?: string;
  userId?: string;
  durationMs?: number;
}
export interface RequestItem { service: string; operation?: string; durationMs: number; statusCode?: number; success: boolean; timestamp: number }
export interface AnalyticsItem {
  userId: string;
  sessionId?: string;
  type: string;
  page?: string;
  properties?: Record<string, unknown>;
  timestamp: number;
}

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
