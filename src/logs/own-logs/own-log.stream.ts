import type { DestinationStream } from 'pino';
import type { LogItem, LogLevel } from '../../ingest-log/ingest-log.items.js';
import { LIMITS } from '../../ingest/ingest.validation.js';
import type { OwnLogBuffer } from './own-log.buffer.js';

/** pino's numeric levels that are shipped: info and above. */
const SHIPPED_LEVELS: ReadonlyMap<number, LogLevel> = new Map([
  [30, 'info'],
  [40, 'warn'],
  [50, 'error'],
  [60, 'fatal'],
]);

/**
 * Logger contexts whose lines are about shipping itself (the delivery core,
 * the destinations, this shipper). They are never shipped: a failure to ship
 * would otherwise be shipped, fail, and be logged again. A destination that
 * receives logs therefore logs under a context ending in `Destination`
 * (`SplunkDestination`). Any other line is kept out by logging it with the
 * binding `shipping: false`.
 */
export const NOT_SHIPPED_CONTEXTS = /^(Delivery|Destination|OwnLog)|Destination$/;

/** Fields of a pino line that become LogItem fields, or say nothing about the event. */
const CONSUMED_FIELDS = new Set(['level', 'time', 'msg', 'service', 'environment', 'request_id', 'shipping']);

/** Attributes larger than this (serialised) are replaced by a note, keeping the message. */
const MAX_ATTRIBUTES_BYTES = 16 * 1024;

function truncated(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

/**
 * The LogItem of one of Vigil's own JSON log lines, or null when the line is
 * not shipped (below info, about shipping, or not a pino JSON line).
 */
export function ownLogItem(line: string): LogItem | null {
  let record: Record<string, unknown>;
  try {
    const parsed = JSON.parse(line) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
    record = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const level = typeof record['level'] === 'number' ? SHIPPED_LEVELS.get(record['level']) : undefined;
  if (level === undefined) return null;
  if (record['shipping'] === false) return null;
  const context = record['context'];
  if (typeof context === 'string' && NOT_SHIPPED_CONTEXTS.test(context)) return null;

  const err = record['err'] as { message?: unknown } | undefined;
  const rawMessage =
    typeof record['msg'] === 'string' && record['msg'] !== '' ? record['msg'] : typeof err?.message === 'string' ? err.message : '(no message)';
  const item: LogItem = {
    message: truncated(rawMessage, LIMITS.messageLength),
    level,
    timestamp: typeof record['time'] === 'number' ? record['time'] : Date.now(),
    service: 'vigil',
  };
  if (typeof record['request_id'] === 'string' && record['request_id'] !== '') {
    item.requestId = truncated(record['request_id'], LIMITS.identifierLength);
  }
  const attributes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (!CONSUMED_FIELDS.has(key)) attributes[key] = value;
  }
  if (JSON.stringify(attributes).length > MAX_ATTRIBUTES_BYTES) {
    item.attributes = { ...(typeof context === 'string' ? { context } : {}), attributes_dropped: `larger than ${MAX_ATTRIBUTES_BYTES} bytes` };
  } else if (Object.keys(attributes).length > 0) {
    item.attributes = attributes;
  }
  return item;
}

/**
 * A pino destination that writes every line to `base` (stdout or a test's
 * stream) and also hands the shippable ones to the buffer. A line that cannot
 * be parsed is only written.
 */
export function ownLogShippingStream(base: DestinationStream, buffer: OwnLogBuffer): DestinationStream {
  return {
    write(line: string): void {
      base.write(line);
      if (!buffer.collecting) return;
      const item = ownLogItem(line);
      if (item) buffer.offer(item);
    },
  };
}
