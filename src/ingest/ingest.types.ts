import type { IngestKind } from '../storage/database.js';

/**
 * Items as Vigil stores them after validation: every default applied, every
 * timestamp in epoch milliseconds, unknown fields dropped. Consumers of the
 * ingest log read exactly these shapes.
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

export interface ItemByKind {
  metric: MetricItem;
  event: EventItem;
  log: LogItem;
  request: RequestItem;
  analytics: AnalyticsItem;
}
export type AnyItem = ItemByKind[IngestKind];

/** Each endpoint: its path segment, the body field that holds the batch, and the stored kind. */
export const INGEST_ENDPOINTS = {
  metrics: { field: 'metrics', kind: 'metric' },
  events: { field: 'events', kind: 'event' },
  logs: { field: 'logs', kind: 'log' },
  requests: { field: 'requests', kind: 'request' },
  analytics: { field: 'events', kind: 'analytics' },
} as const satisfies Record<string, { field: string; kind: IngestKind }>;
export type IngestEndpoint = keyof typeof INGEST_ENDPOINTS;

/** The 202 body. */
export interface IngestResult {
  accepted: number;
  rejected: number;
  errors: Array<{ index: number; message: string }>;
}
