import type { LogItem } from '../../ingest-log/ingest-log.items.js';
import type { LogEntry } from '../../ingest-log/log-entry.js';
import { logDocumentFields, type LogDocumentFields } from '../log-document.js';

/** One event of the HEC JSON event protocol. */
export interface HecEvent {
  /** Epoch seconds, fractional (milliseconds after the point). */
  time: number;
  /** The machine Vigil runs on. */
  host: string;
  /** The service that logged the line; `vigil` when it named none. */
  source: string;
  sourcetype: '_json';
  index?: string;
  event: LogDocumentFields;
}

export interface HecEncoding {
  host: string;
  environment: string;
  /** SPLUNK_INDEX; left out so the token's default index applies. */
  index?: string;
}

export function toHecEvent(item: LogItem, encoding: HecEncoding): HecEvent {
  return {
    time: item.timestamp / 1000,
    host: encoding.host,
    source: item.service ?? 'vigil',
    sourcetype: '_json',
    ...(encoding.index ? { index: encoding.index } : {}),
    event: logDocumentFields(item, encoding.environment),
  };
}

/**
 * A batch as HEC takes it: the events' JSON objects one after the other (a
 * newline between them, which HEC ignores), not a JSON array.
 */
export function encodeHecBatch(batch: ReadonlyArray<LogEntry<'log'>>, encoding: HecEncoding): string {
  return batch.map((entry) => JSON.stringify(toHecEvent(entry.payload, encoding))).join('\n');
}
