import { BadRequestException, PayloadTooLargeException } from '@nestjs/common';
import type { IngestKind } from '../../ingest-log/ingest-log.items.js';
import type { IngestOutcome } from '../../ingest/ingest.types.js';

/** Each endpoint: its path segment, the body field that holds the batch, and the stored kind. */
export const JSON_ENDPOINTS = {
  metrics: { field: 'metrics', kind: 'metric' },
  events: { field: 'events', kind: 'event' },
  logs: { field: 'logs', kind: 'log' },
  requests: { field: 'requests', kind: 'request' },
  analytics: { field: 'events', kind: 'analytics' },
} as const satisfies Record<string, { field: string; kind: IngestKind }>;
export type JsonEndpoint = keyof typeof JSON_ENDPOINTS;

/** The 202 body: the outcome as ingest reports it. */
export type JsonIngestResult = IngestOutcome;

/**
 * `{field: [...]}` → the raw items of the endpoint's batch. Throws the 400 for a body of
 * another shape or an empty batch, and the 413 for more than `maxBatch` items.
 */
export function decodeJsonBatch(endpoint: JsonEndpoint, body: unknown, maxBatch: number): readonly unknown[] {
  const { field } = JSON_ENDPOINTS[endpoint];
  const batch = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>)[field] : undefined;
  if (!Array.isArray(batch)) throw new BadRequestException(`${field} must be an array`);
  if (batch.length === 0) throw new BadRequestException(`${field} must not be empty`);
  if (batch.length > maxBatch) {
    throw new PayloadTooLargeException(`${field} has ${batch.length} items; at most ${maxBatch} are allowed`);
  }
  return batch;
}

/** The outcome as the JSON intake answers it: 202 with the outcome, or the 400 when every item was invalid. */
export function jsonAnswer(outcome: IngestOutcome): JsonIngestResult {
  if (outcome.accepted > 0) return outcome;
  const { rejected, errors } = outcome;
  const more = rejected > errors.length ? ` (and ${rejected - errors.length} more)` : '';
  throw new BadRequestException({
    message: `every item was invalid: ${errors.slice(0, 10).map((error) => error.message).join('; ')}${more}`,
    errors,
  });
}
