import { createHash } from 'node:crypto';
import type { LogItem } from '../../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { logDocumentFields, type LogDocumentFields } from '../log-document.js';

/** One log as stored in Elasticsearch. */
export interface ElasticsearchLogDocument extends LogDocumentFields {
  '@timestamp': string;
}

/** The daily index of a log, by its own timestamp in UTC: `<prefix>-YYYY.MM.DD`. */
export function dailyIndex(prefix: string, timestamp: number): string {
  const date = new Date(timestamp);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${prefix}-${date.getUTCFullYear()}.${month}.${day}`;
}

/**
 * The document `_id` of an ingest-log entry. Everything it is made of is stored
 * with the entry and never changes, so every redelivery of the entry (after a
 * retry, a crash, a restart, or by another replica) gets the same `_id` and the
 * `create` op answers 409 instead of indexing a duplicate.
 *
 * The entry id alone would not do: a store recreated from scratch numbers its
 * entries from 1 again, and a new log would then collide with an old document
 * and be taken as already delivered. The digest of the receipt time and the
 * payload makes such a collision need the same content received in the same
 * millisecond. The entry id keeps two identical logs ingested separately apart.
 */
export function documentId(entry: Pick<LogEntry<'log'>, 'id' | 'receivedAt' | 'payload'>): string {
  const digest = createHash('sha256').update(`${entry.receivedAt}\n${JSON.stringify(entry.payload)}`).digest('base64url').slice(0, 16);
  return `${entry.id}-${digest}`;
}

export function toDocument(item: LogItem, environment: string): ElasticsearchLogDocument {
  return { '@timestamp': new Date(item.timestamp).toISOString(), ...logDocumentFields(item, environment) };
}

/** The `create` action line of one entry. */
export interface CreateAction {
  create: { _index: string; _id: string };
}

/**
 * The `_bulk` operations of a batch: an action line and a document per entry,
 * in batch order (the response's items come back in the same order).
 */
export function bulkOperations(
  batch: ReadonlyArray<LogEntry<'log'>>,
  indexPrefix: string,
  environment: string,
): Array<CreateAction | ElasticsearchLogDocument> {
  const operations: Array<CreateAction | ElasticsearchLogDocument> = [];
  for (const entry of batch) {
    const item = entry.payload;
    operations.push({ create: { _index: dailyIndex(indexPrefix, item.timestamp), _id: documentId(entry) } });
    operations.push(toDocument(item, environment));
  }
  return operations;
}
