import { CONFIGURATION_STATUSES, type ItemResult, type SendResult } from '../../delivery/destination.js';

/** One item of a `_bulk` response, as much of it as Vigil reads (filter_path keeps only this). */
export interface BulkResponseItem {
  status: number;
  error?: { type?: string; reason?: string | null; caused_by?: { type?: string; reason?: string | null } };
}

export interface BulkResponseBody {
  errors?: boolean;
  items?: Array<Record<string, BulkResponseItem>>;
}

/** Elasticsearch's own words for a failed item, e.g. `document_parsing_exception: failed to parse field [duration_ms]`. */
export function bulkErrorReason(item: BulkResponseItem): string {
  const error = item.error;
  if (!error) return `status ${item.status}`;
  const main = [error.type, error.reason].filter((part) => part !== undefined && part !== null && part !== '').join(': ');
  const cause = error.caused_by ? [error.caused_by.type, error.caused_by.reason].filter(Boolean).join(': ') : '';
  const reason = cause ? `${main} (caused by ${cause})` : main;
  return reason || `status ${item.status}`;
}

/**
 * The result of one `create` item. 409 on create is a document with this `_id`
 * already in the index: an earlier delivery of the same entry succeeded.
 * 401/403/404 refuse the index, not the document (a role without write on the
 * prefix, no such index with auto-create off): retried as `configuration`,
 * never dead-lettered.
 */
export function classifyBulkItem(item: BulkResponseItem): ItemResult {
  const status = item.status;
  if ((status >= 200 && status < 300) || status === 409) return { outcome: 'delivered' };
  if (status === 429) return { outcome: 'throttled', reason: bulkErrorReason(item), status };
  if (status === 408 || status >= 500) return { outcome: 'retryable', reason: bulkErrorReason(item), status };
  if (CONFIGURATION_STATUSES.has(status)) return { outcome: 'retryable', reason: bulkErrorReason(item), status, cause: 'configuration' };
  // Mapping and parse errors (400), and anything else the index refuses for this document.
  return { outcome: 'permanent', reason: bulkErrorReason(item), status };
}

/**
 * The SendResult of a 200 `_bulk` answer for a batch of `count` entries:
 * 'delivered' when every item was, else one ItemResult per entry in order.
 */
export function classifyBulkResponse(body: BulkResponseBody, count: number): SendResult {
  const items = body.items ?? [];
  if (body.errors === false && (items.length === count || items.length === 0)) return { outcome: 'delivered' };
  if (items.length !== count) {
    // Cannot tell which entry an item belongs to: resend all (create makes that safe).
    return { outcome: 'retryable', reason: `_bulk answered ${items.length} items for ${count} operations` };
  }
  const results = items.map((container) => {
    const item = Object.values(container)[0];
    return item ? classifyBulkItem(item) : ({ outcome: 'retryable', reason: 'empty _bulk item' } as const);
  });
  if (results.every((result) => result.outcome === 'delivered')) return { outcome: 'delivered' };
  return { outcome: 'partial', items: results };
}
