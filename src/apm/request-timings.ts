import type { PartOutcome } from '../delivery/destination.js';
import type { RequestItem } from '../ingest-log/ingest-log.items.js';

/**
 * Request timings (kind `request`) are not forwarded one by one: each batch is
 * folded into one aggregate per service per 10-second bucket of the requests'
 * own timestamps (count, errors, every duration), which the APM destinations
 * send as metrics. Buckets follow the items' time, not the flush time, so a
 * backlog replayed after an outage lands where it happened.
 */
export const REQUEST_BUCKET_MS = 10_000;

export interface RequestAggregate {
  service: string;
  /** Start of the bucket, epoch ms. */
  bucketStart: number;
  count: number;
  errors: number;
  durationsMs: number[];
  /** Positions in the batch of the requests folded in here. */
  indices: number[];
}

export function aggregateRequests(items: ReadonlyArray<{ index: number; item: RequestItem }>): RequestAggregate[] {
  const aggregates = new Map<string, RequestAggregate>();
  for (const { index, item } of items) {
    const bucketStart = Math.floor(item.timestamp / REQUEST_BUCKET_MS) * REQUEST_BUCKET_MS;
    const key = `${item.service}\u0000${bucketStart}`;
    let aggregate = aggregates.get(key);
    if (!aggregate) {
      aggregate = { service: item.service, bucketStart, count: 0, errors: 0, durationsMs: [], indices: [] };
      aggregates.set(key, aggregate);
    }
    aggregate.count++;
    if (!item.success) aggregate.errors++;
    aggregate.durationsMs.push(item.durationMs);
    aggregate.indices.push(index);
  }
  return [...aggregates.values()];
}

/** Metric names the APM destinations use for aggregated request timings (the dashboard reads them). */
export const REQUEST_METRICS = {
  count: 'vigil.requests.count',
  errors: 'vigil.requests.errors',
  duration: 'vigil.requests.duration',
} as const;

/** One part's outcome (see combine in delivery/destination.ts). */
export type { PartOutcome };

/**
 * Combines the answers of the several requests one batch may need (metrics,
 * distributions, events) into per-item outcomes: an item is delivered when every
 * request that carried it was, permanent when any refused it for good, else it
 * takes the first retry-worthy answer.
 */
export function worstOf(current: PartOutcome | undefined, next: PartOutcome): PartOutcome {
  if (current === undefined) return next;
  const rank = { delivered: 0, retryable: 1, throttled: 2, too_large: 3, permanent: 4 } as const;
  return rank[next.outcome] > rank[current.outcome] ? next : current;
}
