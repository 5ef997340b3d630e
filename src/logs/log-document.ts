import type { LogItem } from '../ingest-log/ingest-log.items.js';

/**
 * The fields every shipped log carries, named as in the original design's log
 * documents (snake_case, `service` and `environment` on every one). Absent
 * optional fields are null, so every document has the same shape.
 */
export interface LogDocumentFields {
  message: string;
  level: string;
  service: string | null;
  environment: string;
  user_id: string | null;
  request_id: string | null;
  trace_id: string | null;
  duration_ms: number | null;
  attributes: Record<string, unknown>;
}

export function logDocumentFields(item: LogItem, environment: string): LogDocumentFields {
  return {
    message: item.message,
    level: item.level,
    service: item.service ?? null,
    environment,
    user_id: item.userId ?? null,
    request_id: item.requestId ?? null,
    trace_id: item.traceId ?? null,
    duration_ms: item.durationMs ?? null,
    attributes: item.attributes ?? {},
  };
}
