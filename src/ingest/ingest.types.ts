import type { IngestKind } from '../ingest-log/ingest-log.items.js';

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
