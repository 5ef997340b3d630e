import type { IngestKind } from '../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../ingest-log/log-entry.js';

/**
 * The contract between the delivery core (src/delivery/) and a destination
 * (src/apm/datadog, src/apm/newrelic, src/logs/elasticsearch, src/logs/splunk).
 *
 * A destination only encodes a batch, sends it, and classifies the answer. It
 * never queues, retries, sleeps, counts or dead-letters: the core does all of
 * that, once, for every destination (as the OpenTelemetry Collector's
 * exporterhelper does).
 *
 * It receives entries of `Kind` only, so their payloads are typed (`LogEntry<'log'>`).
 */
export interface Destination<Kind extends IngestKind = IngestKind> {
  /** Its plug-in's name (destination.plugin.ts). */
  readonly name: string;
  /** Which ingest-log kinds this destination receives. */
  readonly kinds: readonly Kind[];
  readonly limits: DestinationLimits;
  /**
   * One-time set-up before the first send (e.g. install an index template).
   * A thrown error is logged by the core and prepare() is retried with backoff;
   * nothing is sent until it succeeds.
   */
  prepare?(signal: AbortSignal): Promise<void>;
  /**
   * Encodes and sends one batch (already within `limits`). Must not throw for a
   * vendor's answer: every answer maps to a SendResult. A thrown error is treated
   * as a network failure (retryable). Reasons (and a thrown error's message)
   * may quote the client's error and the vendor's answer as they are: the core
   * redacts credentials from them (see redaction.ts) before logging or storing them.
   */
  send(batch: ReadonlyArray<LogEntry<Kind>>, signal: AbortSignal): Promise<SendResult>;
}

export interface DestinationLimits {
  /** Most entries in one request. */
  maxItems: number;
  /** Most bytes of one request body before compression (as the destination encodes it). */
  maxBytes: number;
  /**
   * Oldest entry (by its own timestamp) the vendor accepts, per kind; older ones
   * are dead-lettered as `expired` instead of being sent to fail. Null: no limit.
   */
  maxAgeMs: Partial<Record<IngestKind, number>>;
}

/**
 * Why a retryable answer failed, when it is not an outage: `configuration` is
 * a refusal of Vigil's credentials or settings (401, 403, 404, a vendor's
 * invalid-token or unknown-index answer). It says nothing about the items, so
 * they are not dead-lettered: they wait, with backoff, until the key, URL or
 * index is fixed, and expire as any queued item does.
 */
export type RetryCause = 'configuration';

/** How a whole request went. `status` is the HTTP status when there was one. */
export type SendResult =
  | { outcome: 'delivered' }
  /** Network error, timeout, 408, 5xx except 501, HEC "server busy"; 401/403/404 and invalid tokens with cause `configuration`. */
  | { outcome: 'retryable'; reason: string; status?: number; cause?: RetryCause }
  /** 429 (or a vendor's equivalent); retryAfterMs from Retry-After (or the vendor's own rate-limit header) when given. */
  | { outcome: 'throttled'; reason: string; status?: number; retryAfterMs?: number }
  /** 413: the core splits the batch in half and sends each half. */
  | { outcome: 'too_large'; reason: string; status?: number }
  /** 400/422, 501, any other 4xx or 3xx (redirects are not followed), invalid data: the items are refused as invalid and the whole batch is dead-lettered. */
  | { outcome: 'permanent'; reason: string; status?: number }
  /**
   * Per-item results (Elasticsearch _bulk): one entry per batch entry, same order.
   * Retryable / throttled items are retried alone; permanent ones dead-lettered.
   */
  | { outcome: 'partial'; items: ItemResult[] };

export type ItemResult =
  | { outcome: 'delivered' }
  | { outcome: 'retryable'; reason: string; status?: number; cause?: RetryCause }
  /** retryAfterMs (optional): the vendor asked to wait at least this long before retrying this item. */
  | { outcome: 'throttled'; reason: string; status?: number; retryAfterMs?: number }
  | { outcome: 'permanent'; reason: string; status?: number };

/**
 * Statuses that refuse Vigil's credentials or target, not the items: 401 (no
 * or unknown key), 403 (key revoked, rotated or without the permission), 404
 * (wrong URL, region or account). Retried with backoff, never dead-lettered.
 */
export const CONFIGURATION_STATUSES: ReadonlySet<number> = new Set([401, 403, 404]);

/** Parses Retry-After (delta-seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The standard classification of an HTTP status, shared by every HTTP destination. */
export function classifyHttpStatus(status: number, reason: string, retryAfterHeader: string | null | undefined, now: number): SendResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  if (status === 429) return { outcome: 'throttled', reason, status, retryAfterMs: parseRetryAfter(retryAfterHeader, now) };
  if (status === 413) return { outcome: 'too_large', reason, status };
  if (status === 408 || (status >= 500 && status !== 501)) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader, now);
    return retryAfterMs !== undefined && status === 503
      ? { outcome: 'throttled', reason, status, retryAfterMs }
      : { outcome: 'retryable', reason, status };
  }
  if (CONFIGURATION_STATUSES.has(status)) return { outcome: 'retryable', reason, status, cause: 'configuration' };
  return { outcome: 'permanent', reason, status };
}

/** One part's outcome when a destination sends a batch as several requests (each item gets its part's). */
export type PartOutcome = ItemResult | { outcome: 'too_large'; reason: string; status?: number };

/** One SendResult from per-item outcomes: a uniform answer stays whole, a mixed one becomes `partial`. */
export function combine(outcomes: ReadonlyArray<PartOutcome | undefined>): SendResult {
  const resolved = outcomes.map((outcome) => outcome ?? ({ outcome: 'delivered' } as const));
  if (resolved.length === 0) return { outcome: 'delivered' };
  const tooLarge = resolved.find((outcome) => outcome.outcome === 'too_large');
  if (tooLarge) return tooLarge as SendResult;
  const first = resolved[0]!;
  if (resolved.every((outcome) => outcome.outcome === first.outcome)) return first as SendResult;
  return { outcome: 'partial', items: resolved as ItemResult[] };
}
