import { classifyHttpStatus, parseRetryAfter, type SendResult } from '../../delivery/destination.js';

/** The JSON body HEC answers with: `{"text": "Success", "code": 0}`. */
export interface HecAnswerBody {
  text?: string;
  code?: number;
  'invalid-event-number'?: number;
}

/**
 * HEC status codes (Splunk, "Troubleshoot HTTP Event Collector"), by what
 * Vigil does about them. Codes not listed fall back to the HTTP status.
 */
const RETRY_CODES = new Set([
  8, // Internal server error (500)
  9, // Server is busy (503)
  18, // HEC is unhealthy, queues are full (503)
  19, // HEC is unhealthy, ack service unavailable (503)
  20, // HEC is unhealthy, queues are full (503)
]);
/**
 * Refusals of the token or the index setting, not of the events: a rotated or
 * disabled token, or a SPLUNK_INDEX the token may not write to, would otherwise
 * drain the whole queue into dead letters. Retried with backoff until fixed.
 */
const CONFIGURATION_CODES = new Set([
  1, // Token disabled (403)
  2, // Token is required (401)
  3, // Invalid authorization (401)
  4, // Invalid token (403)
  7, // Incorrect index (400)
]);
const DATA_CODES = new Set([
  5, // No data (400)
  6, // Invalid data format (400)
  10, // Data channel is missing (400)
  11, // Invalid data channel (400)
  12, // Event field is required (400)
  13, // Event field cannot be blank (400)
  14, // ACK is disabled (400)
  15, // Error in handling indexed fields (400)
  16, // Query string authorization is not enabled (400)
]);

export function parseHecBody(text: string): HecAnswerBody | undefined {
  try {
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as HecAnswerBody) : undefined;
  } catch {
    return undefined;
  }
}

function describe(status: number, body: HecAnswerBody | undefined, rawText: string): string {
  if (!body || typeof body.code !== 'number') {
    const snippet = rawText.trim().slice(0, 200);
    return `HEC answered ${status}${snippet ? `: ${snippet}` : ''}`;
  }
  const invalid = typeof body['invalid-event-number'] === 'number' ? ` (invalid-event-number ${body['invalid-event-number']})` : '';
  return `HEC answered ${status}, code ${body.code}: ${body.text ?? 'no text'}${invalid}`;
}

/**
 * Classifies one answer of `/services/collector/event` for the whole batch
 * (HEC has no per-event results). Busy and unhealthy are retried; token and
 * index errors are retried as `configuration` (the core keeps the batch queued
 * and backs off); data errors are permanent (the core dead-letters the batch
 * with this reason); 413 lets the core split the batch.
 */
export function classifyHecAnswer(status: number, rawText: string, retryAfterHeader: string | undefined, now: number): SendResult {
  const body = parseHecBody(rawText);
  const reason = describe(status, body, rawText);
  if (status >= 200 && status < 300 && (body?.code === undefined || body.code === 0)) return { outcome: 'delivered' };
  if (status === 413 || status === 429) return classifyHttpStatus(status, reason, retryAfterHeader, now);
  const code = body?.code;
  if (code !== undefined && RETRY_CODES.has(code)) {
    const retryAfterMs = parseRetryAfter(retryAfterHeader, now);
    return retryAfterMs !== undefined ? { outcome: 'throttled', reason, status, retryAfterMs } : { outcome: 'retryable', reason, status };
  }
  if (code !== undefined && CONFIGURATION_CODES.has(code)) return { outcome: 'retryable', reason, status, cause: 'configuration' };
  if (code !== undefined && DATA_CODES.has(code)) return { outcome: 'permanent', reason, status };
  if (status >= 200 && status < 300) return { outcome: 'delivered' };
  return classifyHttpStatus(status, reason, retryAfterHeader, now);
}
